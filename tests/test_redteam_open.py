"""Open red-team findings (tests/redteam_open/README.md), held to what they do today: an open static escape by a
strict xfail (the day a rule catches it, the xfail fails and the file moves to tests/redteam/ or tests/lookalikes/);
round 2's two runtime findings by their static part, which the rules flag since."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_solbench.data.discovery import discover
from pytest_solbench.data.trace import load_definition
from pytest_solbench.prechecks import static_findings

ROOT = Path(__file__).resolve().parents[1]
OPEN = ROOT / "tests" / "redteam_open" / "round2"
KERNELS, ERRORS = discover([OPEN])
#: Runtime findings whose kernels also had a static escape (collections._sys._getframe), closed since: they scan
#: flagged now, but the runtime trick (the audit walk stopping at a torch.fx frame; replay by the set index) is open.
RUNTIME = {"c18_fx_map_aggregate_audit_bypass", "c19_replay_by_set_index"}


def _findings(kernel):
    definition = load_definition(next(ROOT.glob(f"problems/{kernel.definition}/definition.json")))
    return static_findings("strict", definition, kernel)


def test_every_open_finding_is_a_kernel() -> None:
    assert ERRORS == []
    assert {k.path.stem for k in KERNELS} == {p.stem for p in OPEN.glob("c*.py")} == RUNTIME


# Every static escape of round 2 is closed (tests/redteam/hack_r2_*); a new round's escapes go back here as strict
# xfails: @pytest.mark.xfail(strict=True) over `assert _findings(kernel)`.
@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.path.stem)
def test_an_open_runtime_finding_is_flagged_by_its_static_part(kernel) -> None:
    assert {f.rule for f in _findings(kernel)} >= {"introspection"}

"""Open red-team findings (tests/redteam_open/README.md), held to what they do today: an open escape is expected to
scan clean, an open false positive to be flagged, each under a strict xfail (the day a fix changes that, the xfail
fails and the file moves to tests/redteam/ or tests/lookalikes/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_solbench.data.discovery import discover
from pytest_solbench.data.trace import load_definition
from pytest_solbench.prechecks import static_findings

ROOT = Path(__file__).resolve().parents[1]
OPEN = sorted(p for p in (ROOT / "tests" / "redteam_open").glob("*/*") if p.suffix == ".py" or p.is_dir())
KERNELS, ERRORS = discover(OPEN) if OPEN else ([], [])


def _findings(kernel):
    definition = load_definition(next(ROOT.glob(f"problems/{kernel.definition}/definition.json")))
    return static_findings("strict", definition, kernel)


def test_every_open_finding_is_a_kernel() -> None:
    assert ERRORS == []
    assert len(KERNELS) == len(OPEN)


OPEN_ESCAPES = [pytest.param(k, id=k.path.stem, marks=pytest.mark.xfail(strict=True, reason="an open escape"))
                for k in KERNELS] or [pytest.param(None, id="none", marks=pytest.mark.skip(reason="none is open"))]


@pytest.mark.parametrize("kernel", OPEN_ESCAPES)
def test_an_open_escape_is_flagged(kernel) -> None:
    assert _findings(kernel)

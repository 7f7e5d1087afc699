"""Every bundled workload's bound, on H100 SXM and B200: computable on CPU, and never below the bytes the
workload must move (its inputs read once, its outputs written once) unless its definition declares a gather.
Bundled problems count their FLOPs on meta tensors or state a formula, so no bound waits for real inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_solbench import sol
from pytest_solbench.hardware import lookup
from pytest_solbench.facts import Facts
from pytest_solbench.trace import load_problem

LIBRARY = Path(__file__).resolve().parent.parent / "problems"
DEFINITIONS = sorted(p for p in LIBRARY.rglob("*.json") if p.name == "definition.json" or "definitions" in p.parts)


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.parent.name if p.name == "definition.json" else p.stem)
@pytest.mark.parametrize("hardware", ["h100_sxm", "b200"])
def test_bound_is_never_below_the_bytes_a_workload_must_move(path: Path, hardware: str) -> None:
    problem = load_problem(path)
    definition, hw = problem.definition, lookup(hardware)
    gather = str((definition.sol or {}).get("note", "")).startswith("gather")
    facts = Facts()
    for workload in problem.workloads:
        known = facts.of(problem, workload)
        axis_values, work = known.axis_values, known.work
        assert work is not None, known.work_error
        bound = sol.sol_bound(work, hw)
        floor_ms = sol.io_bytes(definition, axis_values) / (hw.dram_bandwidth_gb_s * 1e9) * 1e3
        assert bound.t_sol_ms > 0
        if gather:  # a gather reads only what it touches; its formula must still count that much
            assert work.bytes_moved > 0
        else:
            assert bound.t_sol_ms >= floor_ms * (1 - 1e-9), (workload.label(), bound.t_sol_ms, floor_ms)
        if bound.bound == "compute":
            assert sum(work.flops_by_dtype.values()) > 0

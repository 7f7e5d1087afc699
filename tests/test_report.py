"""The report's pure parts: trace lines, aggregation, tables."""

from __future__ import annotations


from pytest_solbench.record import ItemResult
from pytest_solbench.reports.terminal import format_table


def _result(**changes: object) -> ItemResult:
    base = dict(nodeid="n", problem="p", kernel="k", workload_uuid="u", workload_label="m=1", status="PASSED",
                device="cuda", hardware="h100_sxm", t_sol_ms=0.01, bound="memory", t_k_ms=0.02, t_b_ms=0.04,
                score=0.75, pct_sol=0.5, speedup=2.0)  # fmt: skip
    base.update(changes)
    return ItemResult(**base)  # type: ignore[arg-type]


def test_table_groups_by_problem_and_fits_the_width() -> None:
    long = "batch_size=256-num_kv_tokens=131072-max_pages_per_seq=128-num_pages=16384"
    lines = format_table([_result(workload_label=long), _result(problem="q")], width=80)
    assert lines[0] == "p" and "q" in lines
    assert all(len(line) <= 80 for line in lines if not line.startswith(("mean", "suite", "  mean")))
    assert any("…" in line for line in lines)
    assert "suite SOL Score (best kernel per problem, 2 problems): 0.750" in lines
    assert lines[-1].endswith("1 = SOL")  # the legend closes the table

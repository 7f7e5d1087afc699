"""The report's pure parts: trace lines, aggregation, tables."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_solbench.report import ItemResult, TraceWriter, format_table, trace_line
from pytest_solbench.scoring import problem_scores, suite_score


def _result(**changes: object) -> ItemResult:
    base = dict(nodeid="n", problem="p", kernel="k", workload_uuid="u", workload_label="m=1", status="PASSED",
                device="cuda", hardware="h100_sxm", t_sol_ms=0.01, bound="memory", t_k_ms=0.02, t_b_ms=0.04,
                score=0.75, pct_sol=0.5, speedup=2.0)  # fmt: skip
    base.update(changes)
    return ItemResult(**base)  # type: ignore[arg-type]


def test_trace_line_is_a_flashinfer_trace_with_our_figures_aside() -> None:
    line = trace_line(_result(workload={"uuid": "u", "axes": {"m": 1}}))
    assert set(line) == {"definition", "workload", "solution", "evaluation", "solbench"}
    assert line["evaluation"]["performance"] == {"latency_ms": 0.02, "reference_latency_ms": 0.04, "speedup_factor": 2.0}
    assert line["solbench"]["t_sol_ms"] == 0.01 and line["solbench"]["score"] == 0.75
    failed = trace_line(_result(status="RUNTIME_ERROR", t_k_ms=None, log="boom"))
    assert "performance" not in failed["evaluation"] and failed["evaluation"]["log"] == "boom"


def test_writer_keeps_strict_json_with_non_finite_numbers(tmp_path: Path) -> None:
    writer = TraceWriter(tmp_path / "t.jsonl")
    writer.write(_result(correctness={"max_absolute_error": float("inf"), "max_relative_error": float("nan")}))
    writer.write(_result(kernel="other"))  # written as it comes: readable before close
    lines = (tmp_path / "t.jsonl").read_text().splitlines()
    writer.close()
    assert json.loads(lines[0])["evaluation"]["correctness"] == {"max_absolute_error": "inf", "max_relative_error": "nan"}
    assert json.loads(lines[1])["solution"] == "other"


def test_failed_workloads_count_zero_undefined_scores_are_left_out_and_skips_ignored() -> None:
    results = [
        _result(score=0.8),
        _result(workload_uuid="v", status="INCORRECT_NUMERICAL", score=None),
        _result(workload_uuid="w", score=None),  # undefined (T_b <= T_SOL)
        _result(workload_uuid="x", status="SKIPPED", score=None),
        _result(problem="q", kernel="a", score=0.6),
        _result(problem="q", kernel="b", score=0.9),
    ]
    scores = problem_scores(results)
    assert scores[("p", "k")] == 0.4
    assert suite_score(results) == (0.4 + 0.9) / 2  # best kernel per problem


def test_table_groups_by_problem_and_fits_the_width() -> None:
    long = "batch_size=256-num_kv_tokens=131072-max_pages_per_seq=128-num_pages=16384"
    lines = format_table([_result(workload_label=long), _result(problem="q")], width=80)
    assert lines[0] == "p" and "q" in lines
    assert all(len(line) <= 80 for line in lines if not line.startswith(("mean", "suite", "  mean")))
    assert any("…" in line for line in lines)
    assert "suite SOL Score (best kernel per problem, 2 problems): 0.750" in lines
    assert lines[-1].endswith("1 = SOL")  # the legend closes the table

"""Trace lines: every status and input kind written, and every line valid under FlashInfer-Bench's own model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_solbench.record import ItemResult
from pytest_solbench.reports.trace_lines import STATUSES, TraceWriter, trace_line

WORKLOAD = {
    "uuid": "u1",
    "axes": {"batch_size": 7},
    "inputs": {
        "x": {"type": "random"},
        "ptr": {"type": "safetensors", "path": "./blob/w.safetensors", "tensor_key": "kv_indptr"},
        "eps": {"type": "scalar", "value": 1e-5},
        "table": {"type": "custom"},
    },
    "tolerance": {"max_atol": 0.01},
}
ERRORS = {"max_absolute_error": 0.5, "max_relative_error": float("inf"), "matched_ratio": 0.9, "nonfinite_elements": 0}
ENV = {"hardware": "NVIDIA H100 80GB HBM3", "libs": {"torch": "2.13.0", "cuda": "12.8"}, "driver": "570.1"}


def result(status: str = "PASSED", **changes: object) -> ItemResult:
    base = dict(nodeid="n", problem="rmsnorm_h4096", kernel="triton_rms", workload_uuid="u1", workload_label="b=7",
                status=status, device="cuda", hardware="h100_sxm", t_sol_ms=0.01, bound="memory", t_k_ms=0.02,
                t_b_ms=0.04, score=0.75, pct_sol=0.5, speedup=2.0, workload=WORKLOAD, environment=ENV,
                timestamp="2026-11-26T01:00:00+00:00", correctness=dict(ERRORS), log="why")  # fmt: skip
    base.update(changes)
    return ItemResult(**base)  # type: ignore[arg-type]


CASES = {
    "passed": result(),
    "passed_untimed_cpu": result(t_k_ms=None, t_b_ms=None, speedup=None, score=None, device="cpu",
                                 environment={"hardware": "", "libs": {}}, timestamp=""),  # fmt: skip
    "passed_no_reference_time": result(t_b_ms=None, speedup=None),
    "incorrect_numerical": result("INCORRECT_NUMERICAL", t_k_ms=None),
    "incorrect_numerical_no_stats": result("INCORRECT_NUMERICAL", t_k_ms=None, correctness=None),
    "incorrect_shape": result("INCORRECT_SHAPE", t_k_ms=None),
    "incorrect_dtype": result("INCORRECT_DTYPE", t_k_ms=None, correctness=None),
    "runtime_error_while_timing": result("RUNTIME_ERROR", t_k_ms=None),
    "compile_error": result("COMPILE_ERROR", t_k_ms=None, correctness=None),
    "timeout": result("TIMEOUT", t_k_ms=None, correctness=None),
    "reward_hack": result("REWARD_HACK"),
    "bare_workload": result("RUNTIME_ERROR", workload={}, correctness=None),
    "skipped": result("SKIPPED", t_k_ms=None, correctness=None, log="too large for CPU mode"),
}


def written(tmp_path: Path, results: list[ItemResult]) -> tuple[list[dict], TraceWriter]:
    writer = TraceWriter(tmp_path / "traces.jsonl")
    for r in results:
        writer.write(r)
    writer.close()
    return [json.loads(line) for line in (tmp_path / "traces.jsonl").read_text().splitlines()], writer


def test_every_line_is_valid_under_flashinfer_bench_s_trace_model(tmp_path: Path) -> None:
    fib = pytest.importorskip(
        "flashinfer_bench.data.trace",
        reason="flashinfer-bench is not installed (.ci/run installs it with --no-deps, with pydantic)",
    )
    writer = TraceWriter(tmp_path / "traces.jsonl")
    for r in CASES.values():
        writer.write(r)
    writer.close()
    lines = (tmp_path / "traces.jsonl").read_text().splitlines()
    assert len(lines) == len(CASES)
    for name, line in zip(CASES, lines):
        trace = fib.Trace.model_validate_json(line)  # raises on any invalid line
        assert trace.solution == "triton_rms" and (trace.evaluation is None) == (name == "skipped"), name


def test_statuses_map_onto_the_schema_and_ours_stays_aside(tmp_path: Path) -> None:
    lines, _ = written(tmp_path, list(CASES.values()))
    by_name = dict(zip(CASES, lines))
    assert {line["evaluation"]["status"] for line in lines if line["evaluation"]} <= STATUSES
    hack = by_name["reward_hack"]
    assert hack["evaluation"]["status"] == "RUNTIME_ERROR" and hack["evaluation"]["log"] == "REWARD_HACK: why"
    assert hack["solbench"]["status"] == "REWARD_HACK" and "performance" not in hack["evaluation"]
    assert hack["solbench"]["correctness"]["matched_ratio"] == 0.9  # the status may not carry it: kept aside
    shape = by_name["incorrect_shape"]["evaluation"]
    assert "correctness" not in shape and "performance" not in shape
    numerical = by_name["incorrect_numerical"]["evaluation"]
    assert numerical["correctness"] == {"max_relative_error": "inf", "max_absolute_error": 0.5,
                                        "extra": {"matched_ratio": 0.9, "nonfinite_elements": 0}}  # fmt: skip
    assert "performance" not in numerical
    assert by_name["incorrect_numerical_no_stats"]["evaluation"]["correctness"]["max_absolute_error"] == "nan"


def test_passed_carries_performance_without_what_was_not_measured(tmp_path: Path) -> None:
    lines, _ = written(tmp_path, [CASES["passed"], CASES["passed_untimed_cpu"], CASES["passed_no_reference_time"]])
    timed, untimed, no_ref = (line["evaluation"]["performance"] for line in lines)
    assert timed == {"latency_ms": 0.02, "reference_latency_ms": 0.04, "speedup_factor": 2.0}
    assert untimed == {}  # no made-up 0.0 latency for a time never measured
    assert no_ref == {"latency_ms": 0.02}
    assert lines[0]["solbench"]["timed"] and not lines[1]["solbench"]["timed"]
    assert lines[1]["evaluation"]["environment"]["hardware"] == "cpu" and lines[1]["evaluation"]["timestamp"]
    assert lines[0]["solbench"]["t_sol_ms"] == 0.01 and lines[0]["solbench"]["score"] == 0.75


def test_input_kinds_and_custom_inputs(tmp_path: Path) -> None:
    (line,), _ = written(tmp_path, [CASES["passed"]])
    inputs = line["workload"]["inputs"]
    assert inputs["x"] == {"type": "random"} and inputs["eps"] == {"type": "scalar", "value": 1e-5}
    assert inputs["ptr"] == {"type": "safetensors", "path": "./blob/w.safetensors", "tensor_key": "kv_indptr"}
    assert inputs["table"] == {"type": "random"} and line["solbench"]["custom_inputs"] == ["table"]
    assert line["workload"]["tolerance"] == {"max_atol": 0.01}


def test_skipped_results_are_written_with_their_reason_and_a_broken_reference_is_kept(tmp_path: Path) -> None:
    skipped = trace_line(CASES["skipped"])
    assert skipped["evaluation"] is None and skipped["solution"] == "triton_rms"
    assert skipped["solbench"]["status"] == "SKIPPED" and skipped["solbench"]["log"] == "too large for CPU mode"
    lines, _ = written(tmp_path, [CASES["skipped"], result(), result("INVALID_REFERENCE")])
    assert len(lines) == 3
    broken = lines[2]
    assert broken["evaluation"]["status"] == "RUNTIME_ERROR" and broken["solbench"]["status"] == "INVALID_REFERENCE"
    assert broken["evaluation"]["log"].startswith("INVALID_REFERENCE: ")


def test_lines_are_written_as_they_come(tmp_path: Path) -> None:
    writer = TraceWriter(tmp_path / "t.jsonl")
    writer.write(result(kernel="first"))
    assert json.loads((tmp_path / "t.jsonl").read_text())["solution"] == "first"  # flushed before close
    writer.close()

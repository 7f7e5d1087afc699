"""FlashInfer Trace lines of results: one JSON line per item, valid under FlashInfer-Bench's own ``Trace`` model.

Their model decides the shape (``flashinfer_bench/data/trace.py``): seven statuses; PASSED carries correctness and
performance, INCORRECT_NUMERICAL correctness only, every other status neither; unknown keys are ignored, so our
figures ride along under the added top-level key ``solbench``. Where our results say more than the schema can:

- SKIPPED and INVALID_REFERENCE items are not written: no verdict on the kernel was reached (FlashInfer-Bench too
  writes no trace for a workload whose reference fails). The terminal summary and the pytest report keep them.
- REWARD_HACK has no status of its own there: it is written as RUNTIME_ERROR with a log that starts with
  ``REWARD_HACK:``, and ``solbench.status`` holds our word.
- PASSED without timing (CPU mode) writes ``performance`` with 0.0 for what was not measured, FlashInfer-Bench's own
  convention (its reference latency is 0.0 when baseline profiling is off), and ``solbench.timed`` false.
- ``custom`` inputs (SOL-ExecBench's kind, absent from FlashInfer-Bench's union) are written as ``random``, both
  being generated rather than stored, and named in ``solbench.custom_inputs``.
- Correctness a status may not carry (a shape mismatch, an error while timing) moves to ``solbench.correctness``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path
from typing import Any, TextIO

from pytest_solbench.protocol import Status
from pytest_solbench.record import ItemResult

#: FlashInfer-Bench's EvaluationStatus values.
STATUSES = frozenset({Status.PASSED, Status.INCORRECT_SHAPE, Status.INCORRECT_NUMERICAL, Status.INCORRECT_DTYPE,
                      Status.RUNTIME_ERROR, Status.COMPILE_ERROR, Status.TIMEOUT})  # fmt: skip
#: Skipped items reach no verdict at all: not written (-rs lists them). INVALID_REFERENCE, which FlashInfer Trace
#: lacks, is written as RUNTIME_ERROR with our word first in the log and in ``solbench.status``, as REWARD_HACK is.
UNWRITTEN = frozenset({Status.SKIPPED})
_OURS = (
    "nodeid", "device", "hardware", "t_sol_ms", "bound", "flops_by_dtype", "bytes_moved", "sol_sm_clock_mhz", "t_b_ms",
    "score", "pct_sol", "baseline", "seed", "clocks", "kernel_timing", "reference_timing", "floor_ms", "rule",
    "profile",
)  # fmt: skip
_ERROR_KEYS = ("max_relative_error", "max_absolute_error")


def trace_line(result: ItemResult) -> dict[str, Any] | None:
    """The FlashInfer Trace record of a result (None for a result that is not written; see the module docstring)."""
    if result.status in UNWRITTEN:
        return None
    status = result.status if result.status in STATUSES else Status.RUNTIME_ERROR
    log = result.log if status == result.status else f"{result.status}: {result.log}"
    ours: dict[str, Any] = {key: getattr(result, key) for key in _OURS}
    ours.update(status=result.status, timed=result.t_k_ms is not None)
    evaluation: dict[str, Any] = {
        "status": status,
        "log": log,
        "environment": _environment(result),
        "timestamp": result.timestamp or _dt.datetime.now(_dt.timezone.utc).isoformat(),
    }
    if status in (Status.PASSED, Status.INCORRECT_NUMERICAL):
        evaluation["correctness"] = _correctness(result.correctness)
    elif result.correctness is not None:
        ours["correctness"] = result.correctness
    if status is Status.PASSED:
        evaluation["performance"] = {
            "latency_ms": result.t_k_ms or 0.0,
            "reference_latency_ms": result.t_b_ms or 0.0,
            "speedup_factor": result.speedup or 0.0,
        }
    workload, custom = _workload(result)
    if custom:
        ours["custom_inputs"] = custom
    return {
        "definition": result.problem,
        "workload": workload,
        "solution": result.kernel,
        "evaluation": evaluation,
        "solbench": ours,
    }


def _environment(result: ItemResult) -> dict[str, Any]:
    env = dict(result.environment)
    env["hardware"] = str(env.get("hardware") or result.device or "unknown")
    env["libs"] = {str(k): str(v) for k, v in (env.get("libs") or {}).items()}
    return env


def _correctness(raw: dict[str, Any] | None) -> dict[str, Any]:
    """The schema's two maxima (NaN where unknown) and the rest of ours under ``extra``."""
    raw = dict(raw or {})
    shown = {key: raw.pop(key, math.nan) for key in _ERROR_KEYS}
    extra = dict(raw.pop("extra", None) or {})
    extra.update(raw)
    return {**shown, "extra": extra or None}


def _workload(result: ItemResult) -> tuple[dict[str, Any], list[str]]:
    workload = {"uuid": result.workload_uuid, "axes": {}, "inputs": {}, **result.workload}
    inputs = dict(workload["inputs"])
    custom = [name for name, spec in inputs.items() if isinstance(spec, dict) and spec.get("type") == "custom"]
    inputs.update({name: {"type": "random"} for name in custom})
    return {**workload, "inputs": inputs}, custom


class TraceWriter:
    """Appends one JSON line per result as it comes, flushed, so an interrupted run keeps what it measured."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.unwritten = 0  # results with no trace line (skipped, invalid reference)
        self._file: TextIO = path.open("w")

    def write(self, result: ItemResult) -> bool:
        """Write the result's line; False (and counted) for a result that has none."""
        line = trace_line(result)
        if line is None:
            self.unwritten += 1
            return False
        self._file.write(json.dumps(_finite(line), default=str, allow_nan=False) + "\n")
        self._file.flush()
        return True

    def close(self) -> None:
        self._file.close()


def _finite(value: Any) -> Any:
    """NaN and infinities as strings ("nan", "inf"), as FlashInfer-Bench serializes them: strict JSON stays valid."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value

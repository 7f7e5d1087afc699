"""FlashInfer Trace lines of results: one JSON line per item, valid under FlashInfer-Bench's own ``Trace`` model.

Their model decides the shape (``flashinfer_bench/data/trace.py``): seven statuses; PASSED carries correctness and
performance, INCORRECT_NUMERICAL correctness only, every other status neither; unknown keys are ignored, so our
figures ride along under the added top-level key ``solbench``. Where our results say more than the schema can:

- SKIPPED items are written too, every item being in the file: no verdict on the kernel was reached, so
  ``evaluation`` is null (the schema's optional field) and ``solbench.status`` is SKIPPED with the reason in
  ``solbench.log``.
- REWARD_HACK and INVALID_REFERENCE have no status of their own there: each is written as RUNTIME_ERROR with a log
  that starts with our word, and ``solbench.status`` holds it.
- PASSED without timing (CPU mode) writes ``performance`` with only what was measured: a latency never measured is
  left out (the schema's default fills it for its readers), never a made-up 0.0; ``solbench.timed`` is false.
- ``custom`` inputs (SOL-ExecBench's kind, absent from FlashInfer-Bench's union) are written as ``random``, both
  being generated rather than stored, and named in ``solbench.custom_inputs``.
- Correctness a status may not carry (a shape mismatch, an error while timing) moves to ``solbench.correctness``.
- The solution's source file is ``solbench.kernel_path``: ``solution`` is only a name, which any folder's kernel
  could take.
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
#: Skipped items reach no verdict at all: written with no evaluation, the reason under ``solbench.log``.
#: INVALID_REFERENCE, which FlashInfer Trace lacks, is written as RUNTIME_ERROR with our word first in the log and
#: in ``solbench.status``, as REWARD_HACK is.
NO_VERDICT = frozenset({Status.SKIPPED})
_OURS = (
    "nodeid", "kernel_path", "device", "hardware", "t_sol_ms", "bound", "flops_by_dtype", "bytes_moved",
    "sol_sm_clock_mhz", "t_b_ms", "score", "pct_sol", "baseline", "seed", "clocks", "kernel_timing",
    "reference_timing", "judge_phases_s", "floor_ms", "rule", "profile",
)  # fmt: skip
_ERROR_KEYS = ("max_relative_error", "max_absolute_error")


def trace_line(result: ItemResult) -> dict[str, Any]:
    """The FlashInfer Trace record of a result (see the module docstring for what the schema cannot say)."""
    ours: dict[str, Any] = {key: getattr(result, key) for key in _OURS}
    ours.update(status=result.status, timed=result.t_k_ms is not None)
    workload, custom = _workload(result)
    if custom:
        ours["custom_inputs"] = custom
    line = {"definition": result.problem, "workload": workload, "solution": result.kernel, "evaluation": None,
            "solbench": ours}  # fmt: skip
    if result.status in NO_VERDICT:
        ours["log"] = result.log
        return line
    status = result.status if result.status in STATUSES else Status.RUNTIME_ERROR
    log = result.log if status == result.status else f"{result.status}: {result.log}"
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
    if status is Status.PASSED:  # required for PASSED; what was not measured is left out rather than written as 0.0
        measured = {"latency_ms": result.t_k_ms, "reference_latency_ms": result.t_b_ms,
                    "speedup_factor": result.speedup}  # fmt: skip
        evaluation["performance"] = {key: value for key, value in measured.items() if value is not None}
    return {**line, "evaluation": evaluation}


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
        self._file: TextIO = path.open("w")

    @staticmethod
    def check(path: Path) -> None:
        """Raise OSError now, before anything runs, if ``path`` cannot be written; an existing file is kept as is."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a"):
            pass

    def write(self, result: ItemResult) -> None:
        """Write the result's line and flush it."""
        self._file.write(json.dumps(_finite(trace_line(result)), default=str, allow_nan=False) + "\n")
        self._file.flush()

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

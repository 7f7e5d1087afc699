"""The fixed schema of what a kernel's process may say back, and its validator.

A reply is JSON (the pool never unpickles a kernel's process) holding exactly the keys of one shape below, each of
its type; anything else (a missing or extra key, a ``status``, a wrong type, a number out of range) raises
``ReplyError``, which the judge turns into ``REWARD_HACK [reply-schema]``: a harness that answers off the schema
was tampered with. Nothing here imports torch.

    load     {"destination_passing": bool, "trip": trip|null, "ops": [str]|null} | {"failure": "COMPILE_ERROR"|"RUNTIME_ERROR", "error": str, "ops": [str]|null}
    calls    {"calls": [call] (1 to the calls asked; only the last may hold an error or a trip, and fewer than asked
             end with one), "ops": [str]|null (the operator record of them all), "kernel_s": number (the wall
             seconds the kernel's own code ran in them, its JIT on a new shape too: for the record of where the
             item's time went, never for a verdict)}
    call     {"outputs": [output]|null, "trip": trip|null, "kernel_names": [str]|null} | {"error": str}
    measure  {"measurement": measurement, "trip": trip|null} | {"error": str}
    batch    {"calls": int, "trip": trip|null[, "ops": [str]|null]} | {"error": str}
    ping     {}
    trip     {"rule": str, "message": str}
    output   {"kind": "tensor", "dtype": str, "shape": [int]} | {"kind": "number", "value": number|"nan"|"inf"|"-inf"}
             | {"kind": "other", "type": str}
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

RULE = "reply-schema"
MAX_TEXT = 20_000
MAX_SAMPLES = 1_000_000
_RULE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_DTYPE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
METHODS = ("cuda_events", "cuda_graph", "cupti", "wall")


class ReplyError(ValueError):
    """A reply off the schema; the message says where."""


def _fail(where: str, why: str) -> ReplyError:
    return ReplyError(f"{where}: {why}")


def _keys(value: Any, where: str, *shapes: set[str]) -> set[str]:
    if not isinstance(value, dict):
        raise _fail(where, f"expected an object, got {type(value).__name__}")
    keys = set(value)
    if keys not in shapes:
        allowed = " or ".join(str(sorted(s)) for s in shapes)
        raise _fail(where, f"keys {sorted(keys)}; expected {allowed}")
    return keys


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise _fail(where, "expected a string of at most 20,000 characters")
    return value


def _int(value: Any, where: str, low: int = 0, high: int = 2**62) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _fail(where, f"expected an integer in [{low}, {high}], got {value!r}"[:200])
    return value


def _bool(value: Any, where: str) -> bool:
    if type(value) is not bool:
        raise _fail(where, f"expected true or false, got {value!r}"[:200])
    return value


def _number(value: Any, where: str, *, optional: bool = False, nonnegative: bool = True) -> float | None:
    if value is None and optional:
        return None
    if type(value) not in (int, float) or not math.isfinite(value) or (nonnegative and value < 0):
        raise _fail(where, f"expected a finite{' non-negative' if nonnegative else ''} number, got {value!r}"[:200])
    return float(value)


def _list(value: Any, where: str, item: Callable[[Any, str], Any], limit: int = 10_000) -> list:
    if not isinstance(value, list) or len(value) > limit:
        raise _fail(where, f"expected a list of at most {limit} items")
    return [item(v, f"{where}[{i}]") for i, v in enumerate(value)]


def _maybe(value: Any, where: str, check: Callable[[Any, str], Any]) -> Any:
    return None if value is None else check(value, where)


def trip(value: Any, where: str = "trip") -> dict[str, str]:
    _keys(value, where, {"rule", "message"})
    if not isinstance(value["rule"], str) or not _RULE_NAME.match(value["rule"]):
        raise _fail(f"{where}.rule", "expected a rule name (lowercase words joined by '-')")
    return {"rule": value["rule"], "message": _text(value["message"], f"{where}.message")}


def output(value: Any, where: str = "output") -> dict[str, Any]:
    if not isinstance(value, dict) or value.get("kind") not in ("tensor", "number", "other"):
        raise _fail(where, "expected an object whose kind is 'tensor', 'number' or 'other'")
    kind = value["kind"]
    if kind == "tensor":
        _keys(value, where, {"kind", "dtype", "shape"})
        if not isinstance(value["dtype"], str) or not _DTYPE.match(value["dtype"]):
            raise _fail(f"{where}.dtype", "expected a dtype name")
        _list(value["shape"], f"{where}.shape", lambda v, w: _int(v, w), limit=16)
    elif kind == "number":
        _keys(value, where, {"kind", "value"})
        number = value["value"]
        if number not in ("nan", "inf", "-inf"):
            _number(number, f"{where}.value", nonnegative=False)
    else:
        _keys(value, where, {"kind", "type"})
        _text(value["type"], f"{where}.type")
    return value


def load(value: Any) -> dict[str, Any]:
    keys = _keys(value, "load", {"destination_passing", "trip", "ops"}, {"failure", "error", "ops"})
    _maybe(value["ops"], "load.ops", _ops)
    if "failure" in keys:
        if value["failure"] not in ("COMPILE_ERROR", "RUNTIME_ERROR"):
            raise _fail("load.failure", "expected COMPILE_ERROR or RUNTIME_ERROR")
        _text(value["error"], "load.error")
        return value
    _bool(value["destination_passing"], "load.destination_passing")
    _maybe(value["trip"], "load.trip", trip)
    return value


def calls(value: Any, asked: int) -> dict[str, Any]:
    """The reply to one request of ``asked`` checked calls: a reply per call, in order, up to the first that raised
    or tripped (the kernel's process stops there), and the operator record of them all."""
    _keys(value, "calls", {"calls", "ops", "kernel_s"})
    _number(value["kernel_s"], "calls.kernel_s")
    replies = _list(value["calls"], "calls.calls", call, limit=asked)
    if not replies:
        raise _fail("calls.calls", "no call answered")
    ended = ["error" in r or r["trip"] is not None for r in replies]
    if any(ended[:-1]):
        raise _fail("calls.calls", "a call answered after one that raised or tripped")
    if len(replies) < asked and not ended[-1]:
        raise _fail("calls.calls", f"{len(replies)} of {asked} calls answered, the last of them neither raised nor "
                    "tripped")  # fmt: skip
    _maybe(value["ops"], "calls.ops", _ops)
    return value


def call(value: Any, where: str = "call") -> dict[str, Any]:
    """One checked call's reply, within ``calls`` (the record's operators are the request's, not the call's)."""
    keys = _keys(value, where, {"outputs", "trip", "kernel_names"}, {"error"})
    if "error" in keys:
        _text(value["error"], f"{where}.error")
        return value
    _maybe(value["outputs"], f"{where}.outputs", lambda v, w: _list(v, w, output, limit=64))
    _maybe(value["trip"], f"{where}.trip", trip)
    _maybe(value["kernel_names"], f"{where}.kernel_names", lambda v, w: _list(v, w, _text))
    return value


def _ops(value: Any, where: str) -> list[str]:
    """A record's operator names (``guard.dispatched.sent``): strings of at most 400 characters."""
    return _list(value, where, _op_name, limit=5000)


def _op_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) > 400:
        raise _fail(where, "expected an operator name of at most 400 characters")
    return value


def batch(value: Any) -> dict[str, Any]:
    keys = _keys(value, "batch", {"calls", "trip"}, {"calls", "trip", "ops"}, {"error"})
    if "error" in keys:
        _text(value["error"], "batch.error")
        return value
    _int(value["calls"], "batch.calls")
    _maybe(value.get("ops"), "batch.ops", _ops)
    _maybe(value["trip"], "batch.trip", trip)
    return value


def ping(value: Any) -> dict[str, Any]:
    _keys(value, "ping", set())
    return value


def measure(value: Any) -> dict[str, Any]:
    keys = _keys(value, "measure", {"measurement", "trip"}, {"error"})
    if "error" in keys:
        _text(value["error"], "measure.error")
        return value
    measurement(value["measurement"])
    _maybe(value["trip"], "measure.trip", trip)
    return value


_CLOCK_FIELDS = {"sm_clock_mhz", "mem_clock_mhz", "throttle_reasons", "temperature_c", "power_w", "error", "throttled"}
_COUNTS = ("n", "warmup_calls", "throttled_samples_dropped", "calls_without_kernels", "distinct_kernel_sets")
_FIGURES = ("median_ms", "min_ms", "q1_ms", "q3_ms", "mean_ms", "stdev_ms", "wall_time_s")
_MEASUREMENT_FIELDS = {"samples_ms", *_COUNTS, *_FIGURES, "method", "hidden_work_suspected", "throttled",
                       "stop_reason", "all_streams_tail_ms", "clocks_before", "clocks_after", "notes",
                       "kernel_names", "kernel_names_by_set"}  # fmt: skip


def _clock(value: Any, where: str) -> Any:
    if value is None:
        return None
    if not isinstance(value, dict) or not set(value) <= _CLOCK_FIELDS:
        raise _fail(where, f"expected a clock reading with keys among {sorted(_CLOCK_FIELDS)}")
    for key in ("sm_clock_mhz", "mem_clock_mhz", "temperature_c", "power_w"):
        _number(value.get(key), f"{where}.{key}", optional=True)
    _list(value.get("throttle_reasons", []), f"{where}.throttle_reasons", _text, limit=64)
    _maybe(value.get("error"), f"{where}.error", _text)
    _maybe(value.get("throttled"), f"{where}.throttled", _bool)
    return value


def measurement(value: Any, where: str = "measurement") -> dict[str, Any]:
    """A ``timing.Measurement.to_dict()``: every field, each of its type; at least one sample, all finite."""
    _keys(value, where, _MEASUREMENT_FIELDS)
    samples = _list(value["samples_ms"], f"{where}.samples_ms", _number, limit=MAX_SAMPLES)
    if not samples:
        raise _fail(f"{where}.samples_ms", "no samples")
    for key in _COUNTS:
        _int(value[key], f"{where}.{key}")
    for key in _FIGURES:
        _number(value[key], f"{where}.{key}")
    if value["method"] not in METHODS:
        raise _fail(f"{where}.method", f"expected one of {METHODS}")
    for key in ("hidden_work_suspected", "throttled"):
        _bool(value[key], f"{where}.{key}")
    _text(value["stop_reason"], f"{where}.stop_reason")
    _number(value["all_streams_tail_ms"], f"{where}.all_streams_tail_ms", optional=True)
    for key in ("clocks_before", "clocks_after"):
        _clock(value[key], f"{where}.{key}")
    _list(value["notes"], f"{where}.notes", _text, limit=256)
    _list(value["kernel_names"], f"{where}.kernel_names", _text)
    _list(value["kernel_names_by_set"], f"{where}.kernel_names_by_set", lambda v, w: _list(v, w, _text), limit=64)
    return value

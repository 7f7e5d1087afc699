"""A measurement's samples and their statistics: the median is the headline, the rest travels in the JSON."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

METHODS = ("cuda_events", "cuda_graph", "cupti", "wall")


@dataclass(frozen=True)
class Measurement:
    """Raw per-sample times and their summary; the median is the headline."""

    samples_ms: tuple[float, ...]
    median_ms: float
    min_ms: float
    q1_ms: float
    q3_ms: float
    mean_ms: float
    stdev_ms: float
    n: int
    method: str
    warmup_calls: int = 0
    wall_time_s: float = 0.0
    throttled_samples_dropped: int = 0
    hidden_work_suspected: bool = False
    throttled: bool = False
    stop_reason: str = ""
    all_streams_tail_ms: float | None = None  # least time the device stayed busy after a batch's last end event
    clocks_before: Any = None  # ClockSnapshot (or any object with to_dict) from the clock probe
    clocks_after: Any = None
    notes: tuple[str, ...] = ()
    kernel_names: tuple[str, ...] = ()  # CUPTI: every kernel the timed calls launched
    calls_without_kernels: int = 0  # CUPTI: timed calls that launched nothing on the GPU
    distinct_kernel_sets: int = 0  # CUPTI: the most different kernel sets the timed calls on one input set launched
    kernel_names_by_set: tuple[tuple[str, ...], ...] = ()  # CUPTI: per input set, the kernels its timed calls launched

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["samples_ms"] = list(self.samples_ms)
        out["notes"] = list(self.notes)
        out["kernel_names"] = list(self.kernel_names)
        out["kernel_names_by_set"] = [list(names) for names in self.kernel_names_by_set]
        for key in ("clocks_before", "clocks_after"):
            value = out[key]
            out[key] = value.to_dict() if hasattr(value, "to_dict") else value
        return out


def plain(measured: dict[str, Any]) -> dict[str, Any]:
    """A measurement's dict as JSON takes it: non-finite numbers become None (the judge refuses them)."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return clean(measured)


def _quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median_rel_error(samples_ms: tuple[float, ...] | list[float]) -> float:
    """Standard error of the median over the median, from the MAD (robust to the odd slow sample)."""
    n = len(samples_ms)
    if n < 2:
        return math.inf
    median = statistics.median(samples_ms)
    if median <= 0:
        return math.inf
    mad = statistics.median(abs(x - median) for x in samples_ms)
    sigma = 1.4826 * mad  # MAD -> stdev for a normal distribution
    return 1.2533 * sigma / math.sqrt(n) / median  # SE(median) = sqrt(pi/2) * sigma / sqrt(n)


def summarize(samples_ms: list[float] | tuple[float, ...], method: str, **fields: Any) -> Measurement:
    """Summary statistics of raw samples; extra Measurement fields pass through ``fields``."""
    if not samples_ms:
        raise ValueError("no timing samples to summarize")
    if method not in METHODS:
        raise ValueError(f"unknown timing method {method!r}; expected one of {', '.join(METHODS)}")
    ordered = sorted(float(x) for x in samples_ms)
    return Measurement(
        samples_ms=tuple(float(x) for x in samples_ms),
        median_ms=statistics.median(ordered),
        min_ms=ordered[0],
        q1_ms=_quantile(ordered, 0.25),
        q3_ms=_quantile(ordered, 0.75),
        mean_ms=statistics.fmean(ordered),
        stdev_ms=statistics.stdev(ordered) if len(ordered) > 1 else 0.0,
        n=len(ordered),
        method=method,
        **fields,
    )

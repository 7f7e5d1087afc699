"""Old against new, item by item: a bootstrap interval of the time ratio, and a verdict that fails only on a clear,
confirmed slowdown larger than the threshold.

Method. Items match by (problem, kernel, workload uuid). For a pair timed in both runs, the point estimate is the
ratio of the headline medians, new / old. Its interval is a smoothed percentile bootstrap over the raw samples, in
log time: each side's samples are resampled with replacement, independently, ``resamples`` times (2000 by default,
fewer for very long sample lists so the work stays under about 4 million draws per side), each drawn value jittered
by a normal kernel of Silverman's width; the difference of the two resampled log medians is taken each time, and the
interval is exp of its (1 - confidence) / 2 and (1 + confidence) / 2 quantiles (99 % by default). The generator is
numpy's PCG64 seeded from the item's key, so a comparison is deterministic. Measured on synthetic log-normal timings
with 5 % slow outliers (two draws of one distribution): no SLOWER in 1000 pairs each at 1 % noise and 10 samples,
5 % and 20, 15 % and 40; 1 in 1000 at 15 % noise and 12 samples or 30 % and 10, where a plain bootstrap gave 2.

Verdicts, with ``t = max_regression`` (0.05 by default):
  SLOWER   the whole interval lies above 1 + t: a slowdown larger than t, confirmed by the noise;
  FASTER   the whole interval lies below 1 - t;
  SAME     the whole interval lies within [1 - t, 1 + t];
  UNCLEAR  anything else: the interval is too wide to tell (or too few samples were kept to bootstrap).
Items found in only one run are NEW or MISSING; a pair whose status changed is BROKEN (passed before, fails now),
FIXED (the other way) or UNTIMED (no time on one side, e.g. skipped or not timed); a pair timed by different
methods (CUPTI and CUDA events) is UNCLEAR. A note names an SM clock change over 3 % or a throttled run.
Only SLOWER and BROKEN fail.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Iterable

from pytest_solbench.record import ItemResult
from pytest_solbench.reports.terminal import _ms

FASTER, SAME, SLOWER, UNCLEAR = "FASTER", "SAME", "SLOWER", "UNCLEAR"
NEW, MISSING, BROKEN, FIXED, UNTIMED = "NEW", "MISSING", "BROKEN", "FIXED", "UNTIMED"
FAILING = (SLOWER, BROKEN)
#: The order reports list verdicts in: what needs a look first.
ORDER = (BROKEN, SLOWER, UNCLEAR, FASTER, FIXED, NEW, MISSING, UNTIMED, SAME)

MIN_SAMPLES = 5
MAX_DRAWS = 4_000_000

Key = tuple[str, str, str]


@dataclass(frozen=True)
class Comparison:
    """One item in both runs (or in one of them)."""

    problem: str
    kernel: str
    workload_uuid: str
    workload_label: str
    verdict: str
    old_status: str | None
    new_status: str | None
    old_ms: float | None = None
    new_ms: float | None = None
    ratio: float | None = None  # new / old; above 1 is slower
    ci_low: float | None = None
    ci_high: float | None = None
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.verdict in FAILING

    @property
    def key(self) -> Key:
        return (self.problem, self.kernel, self.workload_uuid)


@dataclass(frozen=True)
class ComparisonReport:
    items: tuple[Comparison, ...]
    baseline: str  # how to name the old run: "'main' (commit 1a2b3c4, 2026-11-26)"
    max_regression: float
    confidence: float

    @property
    def counts(self) -> dict[str, int]:
        """Items per verdict, in report order, verdicts with none left out."""
        found = [c.verdict for c in self.items]
        return {v: found.count(v) for v in ORDER if v in found}

    @property
    def failed(self) -> tuple[Comparison, ...]:
        return tuple(c for c in self.items if c.failed)

    def summary(self) -> str:
        """``compared with 'main' (...): 1 SLOWER, 12 SAME (threshold 5%, 99% intervals)``."""
        counts = ", ".join(f"{n} {v}" for v, n in self.counts.items()) or "nothing to compare"
        return (f"compared with {self.baseline}: {counts} (threshold {self.max_regression:.0%}, "
                f"{self.confidence:.0%} intervals)")  # fmt: skip


def key_of(record: ItemResult) -> Key:
    return (record.problem, record.kernel, record.workload_uuid)


def compare_runs(
    old: Iterable[ItemResult],
    new: Iterable[ItemResult],
    baseline: str = "the saved run",
    max_regression: float = 0.05,
    confidence: float = 0.99,
    resamples: int = 2000,
) -> ComparisonReport:
    """Compare every item of two runs; items keep the new run's order, then the missing ones in the old run's."""
    if not 0 <= max_regression < 1:
        raise ValueError(f"--solbench-max-regression: expected a fraction in [0, 1), got {max_regression}")
    old_by_key = {key_of(r): r for r in old}
    new_list = list(new)
    seen = {key_of(r) for r in new_list}
    items = [compare_item(old_by_key.get(key_of(r)), r, max_regression, confidence, resamples) for r in new_list]
    gone = [r for k, r in old_by_key.items() if k not in seen]
    items += [compare_item(r, None, max_regression, confidence, resamples) for r in gone]
    return ComparisonReport(tuple(items), baseline, max_regression, confidence)


def compare_item(
    old: ItemResult | None,
    new: ItemResult | None,
    max_regression: float = 0.05,
    confidence: float = 0.99,
    resamples: int = 2000,
) -> Comparison:
    """The verdict on one item (either side may be absent, not both)."""
    some = new or old
    assert some is not None, "compare_item needs at least one record"
    base = dict(problem=some.problem, kernel=some.kernel, workload_uuid=some.workload_uuid,
                workload_label=some.workload_label, old_status=old and old.status,
                new_status=new and new.status)  # fmt: skip
    if old is None:
        return Comparison(verdict=NEW, new_ms=new.t_k_ms, **base)  # type: ignore[union-attr]
    if new is None:
        return Comparison(verdict=MISSING, old_ms=old.t_k_ms, **base)
    old_ms, new_ms = _median_of(old), _median_of(new)
    if old.passed and new.failed:
        return Comparison(verdict=BROKEN, old_ms=old_ms, note=f"PASSED -> {new.status}", **base)
    if new.passed and old.failed:
        return Comparison(verdict=FIXED, new_ms=new_ms, note=f"{old.status} -> PASSED", **base)
    if old_ms is None or new_ms is None or not (old.passed and new.passed):
        return Comparison(verdict=UNTIMED, old_ms=old_ms, new_ms=new_ms, **base)
    ratio = new_ms / old_ms
    methods = [(r.kernel_timing or {}).get("method") for r in (old, new)]
    if methods[0] and methods[1] and methods[0] != methods[1]:
        return Comparison(verdict=UNCLEAR, old_ms=old_ms, new_ms=new_ms, ratio=ratio,
                          note=f"timed by {methods[0]}, now by {methods[1]}: not comparable", **base)  # fmt: skip
    old_samples, new_samples = _samples_of(old), _samples_of(new)
    if min(len(old_samples), len(new_samples)) < MIN_SAMPLES:
        return Comparison(verdict=UNCLEAR, old_ms=old_ms, new_ms=new_ms, ratio=ratio,
                          note=f"fewer than {MIN_SAMPLES} raw samples: no interval", **base)  # fmt: skip
    low, high = ratio_interval(old_samples, new_samples, confidence, resamples, seed=_seed(key_of(new)))
    verdict = classify(low, high, max_regression)
    return Comparison(verdict=verdict, old_ms=old_ms, new_ms=new_ms, ratio=ratio, ci_low=low, ci_high=high,
                      note=_clock_note(old, new), **base)  # fmt: skip


def classify(ci_low: float, ci_high: float, max_regression: float) -> str:
    """SLOWER / FASTER only when the whole interval is past the threshold; SAME when it is within it."""
    if ci_low > 1 + max_regression:
        return SLOWER
    if ci_high < 1 - max_regression:
        return FASTER
    if 1 - max_regression <= ci_low and ci_high <= 1 + max_regression:
        return SAME
    return UNCLEAR


def ratio_interval(
    old_ms: list[float], new_ms: list[float], confidence: float = 0.99, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Smoothed percentile bootstrap interval of median(new) / median(old), both sides resampled independently."""
    import numpy as np

    rng = np.random.default_rng(seed)
    a, b = np.log(np.asarray(old_ms, dtype=float)), np.log(np.asarray(new_ms, dtype=float))
    n = max(100, min(resamples, MAX_DRAWS // max(len(a), len(b))))
    log_ratios = _bootstrap_medians(b, n, rng) - _bootstrap_medians(a, n, rng)
    tail = (1 - confidence) / 2
    low, high = np.exp(np.quantile(log_ratios, [tail, 1 - tail]))
    return float(low), float(high)


def _bootstrap_medians(log_ms: Any, resamples: int, rng: Any) -> Any:
    """Medians of ``resamples`` resamples of log times, each value jittered by a normal kernel of Silverman's width.

    The jitter (the smoothed bootstrap) fills the gaps between the few values a median of a small sample can take,
    which otherwise make the interval too narrow: with 10 samples a plain bootstrap flagged noise twice as often."""
    import numpy as np

    n = len(log_ms)
    q1, q3 = np.quantile(log_ms, [0.25, 0.75])
    spread = min(float(np.std(log_ms, ddof=1)), float(q3 - q1) / 1.349) or float(np.std(log_ms, ddof=1))
    drawn = log_ms[rng.integers(0, n, size=(resamples, n))]
    if spread > 0:
        drawn = drawn + rng.normal(0.0, 1.06 * spread * n**-0.2, size=drawn.shape)
    return np.median(drawn, axis=1)


def _seed(key: Key) -> int:
    return zlib.crc32("\x1f".join(key).encode())


def _median_of(record: ItemResult) -> float | None:
    timing = record.kernel_timing or {}
    value = record.t_k_ms if record.t_k_ms is not None else timing.get("median_ms")
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


def _samples_of(record: ItemResult) -> list[float]:
    samples = (record.kernel_timing or {}).get("samples_ms") or []
    return [float(x) for x in samples if isinstance(x, (int, float)) and x > 0]


def _sm_clock(record: ItemResult) -> float | None:
    timing: dict[str, Any] = record.kernel_timing or {}
    readings = [(timing.get(k) or {}).get("sm_clock_mhz") for k in ("clocks_before", "clocks_after")]
    readings = [r for r in readings if isinstance(r, (int, float)) and r > 0]
    return sum(readings) / len(readings) if readings else None


def _clock_note(old: ItemResult, new: ItemResult) -> str:
    """Name an SM clock change of more than 3 % and throttling: a slowdown that follows the clock may be the GPU."""
    before, after = _sm_clock(old), _sm_clock(new)
    notes = [f"SM clock {before:.0f} -> {after:.0f} MHz"] if before and after and abs(after / before - 1) > 0.03 else []
    notes += [f"{side} run throttled" for side, r in (("old", old), ("new", new))
              if (r.kernel_timing or {}).get("throttled")]  # fmt: skip
    return "; ".join(notes)


# ---------------------------------------------------------------- table

COLUMNS = ("problem", "workload", "kernel", "old", "new", "new/old", "interval", "verdict")


def comparison_rows(report: ComparisonReport) -> list[tuple[str, ...]]:
    """One row per item, failures first, then in verdict order; the note joins the verdict."""
    ordered = sorted(report.items, key=lambda c: ORDER.index(c.verdict))
    return [
        (
            c.problem,
            c.workload_label,
            c.kernel,
            _ms(c.old_ms),
            _ms(c.new_ms),
            "-" if c.ratio is None else f"{c.ratio:.3f}",
            "-" if c.ci_low is None else f"[{c.ci_low:.3f}, {c.ci_high:.3f}]",
            f"{c.verdict} ({c.note})" if c.note else c.verdict,
        )
        for c in ordered
    ]


def format_comparison(report: ComparisonReport) -> list[str]:
    """The old-against-new table for the terminal summary, then the counts line."""
    rows = [COLUMNS, *comparison_rows(report)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    right = {"old", "new", "new/old", "interval"}
    lines = ["  " + "  ".join(c.rjust(w) if name in right else c.ljust(w)
                              for name, c, w in zip(COLUMNS, row, widths)).rstrip() for row in rows]  # fmt: skip
    lines.append(report.summary())
    if report.failed:
        named = ", ".join(f"{c.problem} [{c.workload_label}] {c.kernel}: {c.verdict}" for c in report.failed)
        lines.append(f"{len(report.failed)} item(s) fail the comparison: {named}")
    return lines


def failure_message(comparison: Comparison, report_baseline: str, max_regression: float) -> str:
    """Why an item fails the comparison, for the item's own failure text."""
    if comparison.verdict == BROKEN:
        return f"BROKEN: passed in {report_baseline}, now {comparison.new_status}"
    return (f"SLOWER: {_ms(comparison.new_ms)} against {_ms(comparison.old_ms)} in {report_baseline}, "
            f"{comparison.ratio:.3f}x with interval [{comparison.ci_low:.3f}, {comparison.ci_high:.3f}], "
            f"all above the --solbench-max-regression {max_regression:.0%}")  # fmt: skip

"""Old against new: verdicts from a bootstrap interval, deterministic, never SLOWER on noise alone."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pytest_solbench.reports.compare import (
    BROKEN,
    FASTER,
    FIXED,
    MISSING,
    NEW,
    SAME,
    SLOWER,
    UNCLEAR,
    UNTIMED,
    classify,
    compare_item,
    compare_runs,
    failure_message,
    format_comparison,
    ratio_interval,
)
from pytest_solbench.record import ItemResult


def _samples(median_ms: float, noise: float, n: int, seed: int) -> list[float]:
    """Log-normal samples around ``median_ms`` with a few slow outliers, as GPU timings look."""
    rng = np.random.default_rng(seed)
    values = median_ms * np.exp(rng.normal(0.0, noise, n))
    values[rng.random(n) < 0.05] *= 1.5
    return [float(v) for v in values]


def _record(samples: list[float] | None, uuid: str = "u", status: str = "PASSED", kernel: str = "k") -> ItemResult:
    timing = None if samples is None else {"samples_ms": samples, "median_ms": float(np.median(samples))}
    return ItemResult(nodeid=uuid, problem="p", kernel=kernel, workload_uuid=uuid, workload_label=f"m={uuid}",
                      status=status, device="cuda", hardware="h100_sxm", kernel_timing=timing,
                      t_k_ms=None if samples is None else float(np.median(samples)))  # fmt: skip


def test_classify_each_verdict_from_where_the_interval_lies() -> None:
    assert classify(1.06, 1.20, 0.05) == SLOWER
    assert classify(0.80, 0.94, 0.05) == FASTER
    assert classify(0.97, 1.04, 0.05) == SAME
    assert classify(1.02, 1.09, 0.05) == UNCLEAR  # may be slower than the threshold, not confirmed
    assert classify(0.90, 1.10, 0.05) == UNCLEAR


def test_a_ten_percent_slowdown_is_caught_and_a_ten_percent_speedup_seen() -> None:
    old = _record(_samples(1.0, 0.01, 50, seed=1))
    slower = compare_item(old, _record(_samples(1.10, 0.01, 50, seed=2)))
    assert slower.verdict == SLOWER and slower.failed
    assert 1.05 < slower.ci_low <= slower.ratio <= slower.ci_high < 1.15
    faster = compare_item(old, _record(_samples(0.90, 0.01, 50, seed=3)))
    assert faster.verdict == FASTER and not faster.failed


def test_a_three_percent_slowdown_under_a_five_percent_threshold_does_not_fail() -> None:
    old = _record(_samples(1.0, 0.005, 50, seed=4))
    result = compare_item(old, _record(_samples(1.03, 0.005, 50, seed=5)), max_regression=0.05)
    assert result.verdict == SAME and not result.failed
    assert compare_item(old, _record(_samples(1.03, 0.005, 50, seed=5)), max_regression=0.01).verdict == SLOWER


def test_noise_alone_never_reads_as_slower() -> None:
    """Two draws of one distribution, over many seeds and noise levels, compare SAME or UNCLEAR, never SLOWER."""
    seen = set()
    for seed in range(60):
        for noise, n in ((0.01, 10), (0.05, 20), (0.15, 40)):
            old = _record(_samples(1.0, noise, n, seed=2 * seed))
            new = _record(_samples(1.0, noise, n, seed=2 * seed + 1))
            seen.add(compare_item(old, new, resamples=500).verdict)
    assert seen <= {SAME, UNCLEAR} and seen == {SAME, UNCLEAR}


def test_a_wide_interval_is_unclear_and_the_interval_is_deterministic() -> None:
    old, new = _samples(1.0, 0.2, 12, seed=6), _samples(1.08, 0.2, 12, seed=7)
    assert compare_item(_record(old), _record(new)).verdict == UNCLEAR
    assert ratio_interval(old, new, seed=3) == ratio_interval(old, new, seed=3)
    assert ratio_interval(old, new, confidence=0.5, seed=3)[1] < ratio_interval(old, new, confidence=0.99, seed=3)[1]
    few = compare_item(_record([1.0, 1.0]), _record([2.0, 2.0]))
    assert few.verdict == UNCLEAR and few.ratio == 2.0 and "fewer than 5" in few.note


def test_new_missing_and_status_changes() -> None:
    base = _samples(1.0, 0.01, 20, seed=8)
    old = [_record(base, "a"), _record(base, "b"), _record(base, "c"), _record(None, "d", "RUNTIME_ERROR"),
           _record(None, "gone")]  # fmt: skip
    new = [_record(base, "a"), _record(None, "b", "INCORRECT_NUMERICAL"), _record(None, "c", "SKIPPED"),
           _record(base, "d"), _record(base, "fresh")]  # fmt: skip
    report = compare_runs(old, new, baseline="'main'")
    verdicts = {c.workload_uuid: c.verdict for c in report.items}
    assert verdicts == {"a": SAME, "b": BROKEN, "c": UNTIMED, "d": FIXED, "fresh": NEW, "gone": MISSING}
    assert [c.workload_uuid for c in report.failed] == ["b"]
    assert report.counts == {BROKEN: 1, FIXED: 1, NEW: 1, MISSING: 1, UNTIMED: 1, SAME: 1}
    assert "BROKEN: passed in 'main', now INCORRECT_NUMERICAL" == failure_message(report.failed[0], "'main'", 0.05)


def test_items_match_by_problem_kernel_and_workload() -> None:
    fast, slow = _samples(1.0, 0.01, 30, seed=9), _samples(2.0, 0.01, 30, seed=10)
    report = compare_runs([_record(fast, kernel="x"), _record(slow, kernel="y")],
                          [_record(slow, kernel="y"), _record(slow, kernel="x")])  # fmt: skip
    assert {c.kernel: c.verdict for c in report.items} == {"y": SAME, "x": SLOWER}
    with pytest.raises(ValueError, match="--solbench-max-regression"):
        compare_runs([], [], max_regression=1.5)


def test_the_table_lists_failures_first_and_ends_with_the_counts() -> None:
    base = _samples(1.0, 0.01, 30, seed=11)
    report = compare_runs([_record(base, "a"), _record(base, "b")],
                          [_record(base, "a"), _record(_samples(1.2, 0.01, 30, seed=12), "b")],
                          baseline="'main' (commit 1a2b3c4)")  # fmt: skip
    lines = format_comparison(report)
    assert lines[0].split() == ["problem", "workload", "kernel", "old", "new", "new/old", "interval", "verdict"]
    assert lines[1].split()[1] == "m=b" and lines[1].endswith("SLOWER") and lines[2].endswith("SAME")
    assert lines[3] == "compared with 'main' (commit 1a2b3c4): 1 SLOWER, 1 SAME (threshold 5%, 99% intervals)"
    assert lines[4].startswith("1 item(s) fail the comparison: p [m=b] k: SLOWER")
    assert "all above the --solbench-max-regression 5%" in failure_message(report.failed[0], "'main'", 0.05)


def test_different_timers_are_unclear_and_clock_changes_are_named() -> None:
    old = _record(_samples(1.0, 0.01, 30, seed=13))
    new = _record(_samples(1.3, 0.01, 30, seed=14))
    new_timing = dict(new.kernel_timing, method="cupti", clocks_after={"sm_clock_mhz": 1500}, throttled=True)
    old_timing = dict(old.kernel_timing, method="cuda_events", clocks_after={"sm_clock_mhz": 1980})
    mixed = compare_item(replace(old, kernel_timing=old_timing), replace(new, kernel_timing=new_timing))
    assert mixed.verdict == UNCLEAR and mixed.note == "timed by cuda_events, now by cupti: not comparable"
    old_timing["method"] = "cupti"
    slower = compare_item(replace(old, kernel_timing=old_timing), replace(new, kernel_timing=new_timing))
    assert slower.verdict == SLOWER and slower.note == "SM clock 1980 -> 1500 MHz; new run throttled"

"""Scores and their aggregates: the one implementation the records and the summary share."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pytest_solbench.sol.scoring import (
    below_floor, figures, min_score_failure, pct_sol, problem_scores, sol_score, speedup, suite_score,
)  # fmt: skip


def test_score_is_one_half_at_the_baseline_and_one_at_sol():
    assert sol_score(2.0, 2.0, 0.5) == pytest.approx(0.5)
    assert sol_score(0.5, 2.0, 0.5) == pytest.approx(1.0)
    assert sol_score(1.0, 2.0, 0.5) == pytest.approx(1 / (1 + (1.0 - 0.5) / (2.0 - 0.5)))


def test_score_is_undefined_when_the_baseline_is_not_slower_than_sol():
    assert sol_score(1.0, 0.5, 0.5) is None
    assert sol_score(1.0, 0.4, 0.5) is None
    assert sol_score(0.0, 0.0, 0.0) is None


def test_score_falls_monotonically_as_the_kernel_slows():
    times = [0.5, 0.6, 1.0, 2.0, 4.0, 100.0]
    scores = [sol_score(t, 2.0, 0.5) for t in times]
    assert all(a > b for a, b in zip(scores, scores[1:]))
    assert 0 < scores[-1] < 0.02


def test_a_kernel_below_sol_scores_one_and_is_flagged():
    assert sol_score(0.2, 2.0, 0.5) == 1.0  # the formula alone would give more than 1, or divide by zero
    assert sol_score(0.4, 0.6, 0.5) == 1.0  # T_k = 2 T_SOL - T_b: the formula's denominator is zero
    assert below_floor(0.2, 0.5, margin=0.0) and not below_floor(0.5, 0.5, 0.0) and not below_floor(0.6, 0.5, 0.0)
    assert not below_floor(0.48, 0.5, margin=0.05) and below_floor(0.47, 0.5, margin=0.05)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_scores_refuse_impossible_times(bad):
    with pytest.raises(ValueError, match="t_k_ms"):
        sol_score(bad, 1.0, 0.5)
    with pytest.raises(ValueError):
        pct_sol(bad, 0.5)


def test_pct_sol_and_speedup():
    assert pct_sol(2.0, 0.5) == pytest.approx(0.25)
    assert speedup(3.0, 1.5) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        speedup(1.0, 0.0)


def _r(problem="p", kernel="k", status="PASSED", score=None):
    return SimpleNamespace(problem=problem, kernel=kernel, status=status, score=score)


def test_problem_score_counts_failures_as_zero_leaves_undefined_out_and_ignores_skips():
    records = [_r(score=0.8), _r(status="INCORRECT_NUMERICAL"), _r(score=None), _r(status="SKIPPED"),
               _r(problem="q", kernel="a", score=0.6), _r(problem="q", kernel="b", score=0.9)]  # fmt: skip
    scores = problem_scores(records)
    assert scores[("p", "k")] == pytest.approx(0.4)
    assert suite_score(records) == pytest.approx((0.4 + 0.9) / 2)  # best kernel per problem
    assert problem_scores([_r(score=None)]) == {("p", "k"): None} and suite_score([_r(score=None)]) is None


def test_a_cpu_run_scores_nothing_even_where_a_kernel_fails():
    cpu = [SimpleNamespace(problem="p", kernel=k, status=s, score=None, device="cpu", t_k_ms=None)
           for k, s in (("good", "PASSED"), ("wrong", "INCORRECT_NUMERICAL"))]  # fmt: skip
    assert problem_scores(cpu) == {} and suite_score(cpu) is None
    timed = [cpu[1], SimpleNamespace(problem="p", kernel="good", status="PASSED", score=0.7, device="cpu", t_k_ms=1.0)]
    assert suite_score(timed) == pytest.approx(0.7)  # a run that timed something (a runner of one's own) scores


def test_figures_say_why_a_score_is_missing_or_capped():
    undefined = figures(1.0, 0.4, 0.5)
    assert undefined.score is None and "undefined" in undefined.note and undefined.speedup == pytest.approx(0.4)
    capped = figures(0.4, 2.0, 0.5)
    assert capped.score == 1.0 and capped.pct_sol == pytest.approx(1.25) and "above 100 %" in capped.note
    unknown_bound = figures(1.0, 2.0, None)
    assert unknown_bound.score is None and unknown_bound.pct_sol is None and unknown_bound.note == ""


def test_the_min_score_gate_never_judges_an_undefined_score():
    assert min_score_failure(None, 0.5) is None
    assert min_score_failure(0.6, 0.5) is None and min_score_failure(0.6, None) is None
    assert min_score_failure(0.4, 0.5) == "SOL Score 0.400 is below --solbench-min-score 0.5"

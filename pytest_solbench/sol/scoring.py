"""Scores and their aggregates, in one place: the record of an item and the summary both use these.

- SOL Score (SOL-ExecBench's): S = (T_b - T_SOL) / (T_k + T_b - 2 T_SOL); 0.5 at the baseline, 1.0 at SOL;
  undefined (None) when T_b <= T_SOL.
- %SOL = T_SOL / T_k; speed-up = T_b / T_k.
- A problem's score is the mean over its workloads, a failed workload counting 0 and an undefined score left out;
  the suite's is the mean over problems of the best kernel's problem score.

Pure: no pytest, no torch.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pytest_solbench.protocol import Status


def _check(**times: float) -> None:
    for name, value in times.items():
        if not (value >= 0 and math.isfinite(value)):
            raise ValueError(f"{name} must be a finite time >= 0, got {value!r}")


def _positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite time > 0, got {value!r}")


def sol_score(t_k_ms: float, t_b_ms: float, t_sol_ms: float) -> float | None:
    """S = (T_b - T_SOL) / (T_k + T_b - 2 T_SOL): 0.5 at the baseline, 1 at SOL (and below it: the floor check, not
    the score, judges a time under T_SOL). None when T_b <= T_SOL: the baseline already sits at the bound."""
    _check(t_k_ms=t_k_ms, t_b_ms=t_b_ms, t_sol_ms=t_sol_ms)
    headroom = t_b_ms - t_sol_ms
    if headroom <= 0:
        return None
    if t_k_ms <= t_sol_ms:
        return 1.0
    return headroom / (t_k_ms + t_b_ms - 2 * t_sol_ms)


def pct_sol(t_k_ms: float, t_sol_ms: float) -> float:
    """%SOL as a fraction, T_SOL / T_k (1.0 at the bound; format it with ``:.0%``)."""
    _check(t_sol_ms=t_sol_ms)
    _positive("t_k_ms", t_k_ms)
    return t_sol_ms / t_k_ms


def speedup(t_b_ms: float, t_k_ms: float) -> float:
    """T_b / T_k: above 1 when the kernel beats the baseline."""
    _check(t_b_ms=t_b_ms)
    _positive("t_k_ms", t_k_ms)
    return t_b_ms / t_k_ms


@dataclass(frozen=True)
class Figures:
    """The scored figures of one timed item."""

    t_k_ms: float
    t_b_ms: float | None
    t_sol_ms: float | None
    pct_sol: float | None
    speedup: float | None
    score: float | None
    note: str = ""  # why a figure is missing or capped, for the log


def figures(t_k_ms: float, t_b_ms: float | None, t_sol_ms: float | None) -> Figures:
    """Everything the summary shows for a kernel time, a baseline time and a bound (either may be unknown)."""
    notes = []
    speed = speedup(t_b_ms, t_k_ms) if t_b_ms is not None and t_k_ms > 0 else None
    pct = pct_sol(t_k_ms, t_sol_ms) if t_sol_ms is not None and t_k_ms > 0 else None
    score = None
    if t_b_ms is not None and t_sol_ms is not None:
        score = sol_score(t_k_ms, t_b_ms, t_sol_ms)
        if score is None:
            notes.append(f"SOL Score undefined: the baseline ({t_b_ms:.4g} ms) is not slower than the bound "
                         f"({t_sol_ms:.4g} ms)")  # fmt: skip
    if t_sol_ms is not None and t_k_ms < t_sol_ms:
        notes.append(f"%SOL above 100 %: {t_k_ms:.4g} ms lies between the physical floor and T_SOL {t_sol_ms:.4g} ms "
                     "(outputs that fit in L2 may retire there inside the timed window); scored 1.0")  # fmt: skip
    return Figures(t_k_ms, t_b_ms, t_sol_ms, pct, speed, score, "; ".join(notes))


def below_floor(t_k_ms: float, floor_ms: float, margin: float) -> bool:
    """Whether T_k beats the physical floor by more than ``margin`` (a fraction of it): a wrong bound or a cheat."""
    return t_k_ms < floor_ms * (1.0 - margin)


def min_score_failure(score: float | None, floor: float | None) -> str | None:
    """The --solbench-min-score verdict: a message when a defined score is below the floor, else None.
    An undefined score (untimed, or T_b <= T_SOL) is never gated: there is nothing to compare."""
    if floor is None or score is None or score >= floor:
        return None
    return f"SOL Score {score:.3f} is below --solbench-min-score {floor:g}"


# ---------------------------------------------------------------- aggregates


def problem_scores(records: Iterable[Any]) -> dict[tuple[str, str], float | None]:
    """Mean SOL Score per (problem, kernel) over records with ``problem``, ``kernel``, ``status`` and ``score``:
    a failed workload counts 0, an undefined score is left out, skipped records are ignored. An untimed run (CPU
    mode) has no scores at all: its failures would make a suite score of 0 out of a run that scored nothing."""
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    records = list(records)
    if untimed(records):
        return {}
    for r in records:
        if r.status == Status.SKIPPED:
            continue
        key = (r.problem, r.kernel)
        seen.add(key)
        if r.status != Status.PASSED:
            groups[key].append(0.0)
        elif r.score is not None:
            groups[key].append(r.score)
    return {key: (sum(groups[key]) / len(groups[key]) if groups[key] else None) for key in sorted(seen)}


def untimed(records: Iterable[Any]) -> bool:
    """Whether a run timed nothing: CPU mode, where every record has ``device`` "cpu" and no ``t_k_ms``."""
    return all(getattr(r, "device", None) == "cpu" and getattr(r, "t_k_ms", None) is None for r in records)


def suite_score(records: Iterable[Any]) -> float | None:
    """Mean over problems of the best kernel's problem score; None when nothing was scored."""
    best: dict[str, float] = {}
    for (problem, _kernel), score in problem_scores(records).items():
        if score is not None:
            best[problem] = max(score, best.get(problem, score))
    return sum(best.values()) / len(best) if best else None

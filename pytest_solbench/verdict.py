"""An item's ``Verdict`` and the gates that decide it once its figures are known.

Physics first (no time below the physical floor, no hidden work), then the user's gates (score floor, a
confirmed slowdown against a saved run). Nothing here raises for a kernel's failure: a verdict says it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from pytest_solbench.options import Settings
from pytest_solbench.protocol import Status
from pytest_solbench.record import ItemResult
from pytest_solbench.sol import scoring

FLOOR_MARGIN = 0.03  # a time this far under the physical floor is REWARD_HACK; nearer, measurement noise


@dataclass(frozen=True)
class Verdict:
    """An item's result: its record, and how pytest should report it ("passed", "failed", "skipped", "error"),
    with the failure text: ``word`` first (the status, or a gate's name), the message, then any details."""

    record: ItemResult
    outcome: str
    message: str = ""
    word: str = ""
    details: str = ""


def failed(record: ItemResult, status: Status, message: str, word: str = "", details: str = "") -> Verdict:
    """A failure under ``status`` (INVALID_REFERENCE is the problem's fault: an error), its message the log."""
    record = replace(record, status=status, log=record.log or message)
    outcome = "error" if status is Status.INVALID_REFERENCE else "failed"
    return Verdict(record, outcome, message, word, details)


def hack(record: ItemResult, rule: str, message: str) -> Verdict:
    """REWARD_HACK under the rule's name, first in the failure text."""
    record = replace(record, status=Status.REWARD_HACK, rule=rule, score=None,
                     log=record.log + f"[{rule}] {message}\n")  # fmt: skip
    return Verdict(record, "failed", f"[{rule}] {message}")


def gate(record: ItemResult, settings: Settings, hardware_name: str,
         regression: Callable[[ItemResult], str | None] | None) -> Verdict:  # fmt: skip
    """The verdict of an item that ran and passed its checks, from its figures."""
    allow = settings.allow_below_sol
    timing: dict[str, Any] = record.kernel_timing or {}
    if timing.get("hidden_work_suspected") and not allow:
        return hack(record, "hidden-work", "work outlived the timed window (side stream or deferred launch): the "
                    "GPU stayed busy after the kernel's end; --solbench-allow-below-sol accepts it")  # fmt: skip
    if record.t_k_ms is not None and record.floor_ms is not None and not allow:
        if scoring.below_floor(record.t_k_ms, record.floor_ms, FLOOR_MARGIN):
            return hack(record, "below-physical-floor",
                        f"{record.t_k_ms:.4g} ms is below the physical floor {record.floor_ms:.4g} ms on "
                        f"{hardware_name} (T_SOL {record.t_sol_ms:.4g} ms): a wrong bound, a broken measurement or "
                        "a cheat (--solbench-allow-below-sol accepts it)")  # fmt: skip
    below = scoring.min_score_failure(record.score, settings.min_score)
    if below:
        return failed(record, record.status, below, word="BELOW_MIN_SCORE")
    slower = regression(record) if regression is not None else None
    if slower:
        return failed(record, record.status, slower, word="SLOWER")
    return Verdict(record, "passed")

"""Where the judge's time on one item goes: wall seconds per named phase, for the record (``judge_phases_s``).

The judge decides one item at a time in its process, so the phases are kept here, per process: ``begin`` at the
item's start, ``phase(name)`` around each part, ``taken()`` at its end. A phase inside another is taken out of the
outer one's time (each second is counted once), and what no phase covers is ``other``; the figures add up to the
item's time in the judge. Costs a ``perf_counter`` pair per phase: nothing beside a round trip.
"""

from __future__ import annotations

import contextlib
import time
from typing import Iterator

_SECONDS: dict[str, float] = {}
_OPEN: list[list] = []  # [name, started, seconds spent in phases inside it] per open phase, innermost last
_BEGUN: list[float] = []


def begin() -> None:
    """A new item: the phases of the last one forgotten."""
    _SECONDS.clear()
    _OPEN.clear()
    _BEGUN[:] = [time.perf_counter()]


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """The block's wall time counted under ``name`` (summed over repeats), less the phases inside it."""
    entry = [name, time.perf_counter(), 0.0]
    _OPEN.append(entry)
    try:
        yield
    finally:
        spent = time.perf_counter() - entry[1]
        if _OPEN and _OPEN[-1] is entry:
            _OPEN.pop()
        _SECONDS[name] = _SECONDS.get(name, 0.0) + spent - entry[2]
        if _OPEN:
            _OPEN[-1][2] += spent


def moved(source: str, target: str, seconds: float) -> None:
    """Up to ``seconds`` of ``source``'s time counted under ``target`` instead (never more than ``source`` holds): the
    kernel's own code inside a request's round trip, as the kernel's process reports it (``kernel code``)."""
    seconds = max(0.0, min(seconds, _SECONDS.get(source, 0.0)))
    if seconds:
        _SECONDS[source] -= seconds
        _SECONDS[target] = _SECONDS.get(target, 0.0) + seconds


def taken() -> dict[str, float]:
    """Seconds per phase since ``begin``, with ``other`` for the rest; empty if ``begin`` never ran."""
    if not _BEGUN:
        return {}
    total = time.perf_counter() - _BEGUN[0]
    seconds = dict(_SECONDS)
    seconds["other"] = max(0.0, total - sum(seconds.values()))
    return {name: round(value, 4) for name, value in sorted(seconds.items(), key=lambda kv: -kv[1])}

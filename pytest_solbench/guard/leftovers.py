"""What the kernel's code may not leave behind when it returns to the harness: a Python mode on torch's stacks
(``guard.modes``: its handlers would run the harness's own torch calls, round 44) or a signal handler or interval timer
of its own (``guard.signals``: a handler runs wherever the harness is, round 48). Both run kernel code after a call's
record has closed; both are undone when found. ``hold`` binds what each reads before the kernel is imported;
``tripped`` is asked whenever the kernel's code returns (its import, each checked and each timed call)."""

from __future__ import annotations

from typing import Any

from pytest_solbench.guard import modes, signals


def hold() -> None:
    """torch's functions for its stacks of modes, the signal handlers and ``signal``'s functions, as they are now."""
    modes.hold()
    signals.hold()


def tripped() -> Any:
    """The first ``Trip`` of the two (a mode left on, then a handler or timer), each undone; None where neither."""
    return modes.tripped() or signals.tripped()

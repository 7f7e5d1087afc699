"""What the kernel's code may not leave behind when it returns to the harness: a Python mode on torch's stacks
(``guard.modes``: its handlers would run the harness's own torch calls, round 44), a signal handler or interval timer
of its own (``guard.signals``: a handler runs wherever the harness is, round 48), or torch's dispatcher changed
(``guard.dispatch_state``: the Python dispatcher switched on, a kernel on an aten op; round 52). Both run kernel code after a call's
record has closed; both are undone when found. ``hold`` binds what each reads before the kernel is imported;
``tripped`` is asked whenever the kernel's code returns (its import, each checked and each timed call)."""

from __future__ import annotations

from typing import Any

from pytest_solbench.guard import dispatch_state, modes, signals


def hold() -> None:
    """torch's functions for its stacks of modes, the signal handlers and ``signal``'s functions, the thread's
    dispatch keys and the aten registrations, as they are now."""
    modes.hold()
    signals.hold()
    dispatch_state.hold()


def tripped() -> Any:
    """The first ``Trip`` (a mode left on, a handler or timer, the thread's dispatch keys changed), each undone; None
    where none."""
    return modes.tripped() or signals.tripped() or dispatch_state.thread_keys()


def registered() -> Any:
    """A kernel of the kernel's registered on an aten op since its import (``dispatch_state.registrations``), or None:
    read after the import and each checked call (a read costs milliseconds)."""
    return dispatch_state.registrations()


def harness_ops(between_calls: bool | None = False) -> Any:
    """A kernel of the kernel's registered over torch's on an operator the harness itself calls
    (``dispatch_state.overridden``), or None: read at the start of every request, before the harness maps the judge's
    tensors, and (``between_calls``) after a timed call picked at random."""
    return dispatch_state.overridden(between_calls)

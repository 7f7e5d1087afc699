"""Signal handlers and interval timers in the kernel's process: a handler of the kernel's runs wherever the
interpreter is when a signal comes, and a 10-microsecond interval timer kept one pending always: it ran at the first
bytecode after the harness left ``torch.no_grad()``, after the call's record had closed, and did the library op into
the judge's outputs there (red-team round 48, ci01, ci03 through ``_signal``). So whenever the kernel's code returns,
the handlers must be those the process had before the kernel was imported and no interval timer may be armed; else
the timers are disarmed, the handlers put back, and it is ``patching``. Read and set by ``signal``'s own functions,
bound by ``hold`` before any kernel is imported."""

from __future__ import annotations

from typing import Any

_HELD: dict[str, Any] = {}


def hold() -> None:
    """The handlers as they are now, and ``signal``'s functions, before the kernel's import (idempotent)."""
    if _HELD:
        return
    import signal

    numbers = [s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP)]
    _HELD.update(getsignal=signal.getsignal, setsignal=signal.signal, getitimer=signal.getitimer,
                 setitimer=signal.setitimer, timers=(signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF),
                 handlers={n: signal.getsignal(n) for n in numbers})  # fmt: skip


def tripped() -> Any:
    """``patching`` where a handler changed or an interval timer is armed (both undone), or None."""
    if not _HELD:
        return None
    armed = [t for t in _HELD["timers"] if _HELD["getitimer"](t) != (0.0, 0.0)]
    changed = [n for n, h in _HELD["handlers"].items() if _HELD["getsignal"](n) is not h]
    if not armed and not changed:
        return None
    for timer in armed:
        _HELD["setitimer"](timer, 0.0)
    for number in changed:
        try:
            _HELD["setsignal"](number, _HELD["handlers"][number])
        except (OSError, ValueError, TypeError):
            pass
    from pytest_solbench.guard.tripwires import Trip

    what = (f"{len(armed)} interval timer(s) armed" if armed else "") + (" and " if armed and changed else "") + (
        f"the handler of signal(s) {', '.join(map(str, changed[:4]))} changed" if changed else "")
    return Trip("patching", f"the kernel's code left {what}: a signal runs its handler wherever the harness is, "
                            "outside the operator record (undone)")

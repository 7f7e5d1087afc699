"""What follows a call in the kernel's process, still armed and inside its operator record: what it returned,
opened by type first and delivered into the judge's outputs, then the tripwires (threads, files, the integrity
snapshot), the compilers' settings ``worker.rewrites`` holds, strict outputs, and the device drained before the
reply. ``entry`` is the harness's loaded kernel (``harness._Loaded``)."""

from __future__ import annotations

from typing import Any

from pytest_solbench.worker import delivery, execute
from pytest_solbench.worker.rounds import as_outputs


def _after_call(entry: Any, result: Any, args: list, outs: list, device: str) -> tuple[Any, Any, bool]:
    """What follows a checked call, inside its operator record (the tripwires' grace too: a vendor op a helper ran
    there, after the record had stopped, was unseen, red-team round 21, y04, y08): (reported, trip, final)."""
    execute._sync(device)
    # Still armed: what the kernel returned is opened here, and no code of its may run unseen.
    trip = None if entry.dps else _strict_result(entry, result)
    if trip is not None:
        return None, trip, True
    returned = None if entry.dps else as_outputs(result, entry.definition)
    reported = None if entry.dps else delivery.deliver(returned, outs)
    execute._sync(device)
    return reported, _check(entry, returned, args), False


def _check(entry: Any, returned: list | None, args: list = ()) -> Any:
    """The in-process tripwires after a call (settled after the first: JIT and autotune threads are its own)."""
    if entry.wires is None:
        return None
    from pytest_solbench.guard import leftovers

    moded = leftovers.tripped() or leftovers.registered()  # first: the tripwires' own calls would run a mode left on
    if moded is not None:
        return moded
    if not entry.settled:
        entry.wires.settle()
        entry.settled = True
    trip = entry.wires.check() or _compilers_held() or _collector_held() or _streams_held() or (
        _strict_outputs(entry, returned, args) if returned is not None else None)
    _drain_device()
    return trip


def _compilers_held() -> Any:
    """``patching`` where the kernel's code undid what ``worker.rewrites`` set for the compilers (round 28, am01)."""
    from pytest_solbench.guard.tripwires import Trip
    from pytest_solbench.worker.rewrites import undone

    why = undone()
    return None if why is None else Trip("patching", why)


def _streams_held() -> Any:
    """``patching`` where the kernel's code left ``sys.stdout`` or ``sys.stderr`` replaced, or set a name on one: the
    worker's loop once flushed them after the records had closed (red-team rounds 40 and 42, bk05, bq01), and nothing
    of the kernel's stands in for the process's streams (``worker.pool.streams_replaced``)."""
    from pytest_solbench.guard.tripwires import Trip
    from pytest_solbench.worker.pool import streams_replaced

    which = streams_replaced()
    return None if which is None else Trip("patching", f"the kernel replaced or changed {which} (a redirect never "
                                                       "undone, a method set on a stream)")


def _collector_held() -> Any:
    """``patching`` where the kernel's code switched the automatic garbage collector back on (``worker.collector``)."""
    from pytest_solbench.guard.tripwires import Trip
    from pytest_solbench.worker.collector import switched_on

    why = switched_on()
    return None if why is None else Trip("patching", why)


def _drain_device() -> None:
    """GPU work a thread of the kernel's launched while the tripwires let it finish (``BUSY_GRACE_S``) is done
    before the reply: nothing of this process runs on the device once it has answered (so the judge may stop it
    and time a baseline beside it, ``referee._kernels_stopped``)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def _strict_result(entry: Any, result: Any) -> Any:
    """A value-returning kernel's result, by its type alone, before anything of it is opened (guard on only)."""
    if entry.wires is None:
        return None
    from pytest_solbench.guard import tripwires

    return tripwires.strict_result(result)


def _strict_outputs(entry: Any, returned: list, args: list) -> Any:
    if entry.wires is None:
        return None
    from pytest_solbench.guard import tripwires

    return tripwires.strict_outputs([o.name for o in entry.definition.outputs], returned, args)

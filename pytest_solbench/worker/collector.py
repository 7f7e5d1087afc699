"""The garbage collector's policy in a kernel's process: garbage is collected inside the judge's records only.

The automatic collector ran a kernel's finalizer between two requests, where nothing records, and the finalizer
compiled a GEMM unseen (red-team round 30, aq01). So after a guarded kernel's import (``harness.load``) what the
import made is frozen (``gc.freeze``: a call's own garbage is then collected in milliseconds) and the automatic
collector is off (:func:`hold_off`); a call's garbage goes inside its record (``harness.call``'s let-go), and the
collector switched back on by the kernel's code is ``patching`` (:func:`switched_on`). Between any two calls the
harness collects (:func:`between_calls`), so no call finds the collector in another state than any other. The
reference's process, which only times, keeps its collector.

Reading ``gc.isenabled()`` at the check was not enough: a kernel allowed to import ``gc`` switched the collector on
with a threshold of one and returned; the harness's next allocation collected a cycle whose finalizer did the call's
work outside the timed window and switched the collector off again before the check (red-team round 69, et04b). So
a hook on ``gc.callbacks`` counts every collection that starts while the collector is on (:func:`_watch`): the
harness's own run with it off, so any such collection is one the kernel's switch made.
"""

from __future__ import annotations

import gc


def watch() -> None:
    """Before a guarded kernel's first import: the harness's hook first on the collector's callbacks, and the list as
    it stands, so that a callback found later is the kernel's. One of the kernel's own, ahead of the harness's, had
    switched the collector off at each collection's start, so the hook counted nothing (red-team round 71, ex05)."""
    if not any(hook is _watch for hook in _HOOKS):
        _HOOKS.insert(0, _watch)
        _BEFORE.extend(_HOOKS)


def hold_off(guarded: bool) -> None:
    """What the import made kept for good; in a guarded kernel's process, the automatic collector off and watched."""
    gc.freeze()
    if guarded:
        gc.disable()
        watch()
        _HELD[0] = True  # from here on: the import's own collections ran with the collector on, as it was


#: The list the interpreter calls at each collection, as it was at the harness's import (a kernel rebinding
#: ``gc.callbacks`` changes the module's name, not the interpreter's list)
_HOOKS = gc.callbacks
#: How many collections began while the automatic collector was on, in a guarded kernel's process
_SWITCHED_ON = [0]
#: Whether the collector has been switched off after the kernel's import (``hold_off``), for good
_HELD = [False]
#: The callbacks as they stood when the harness put its hook first (``watch``): none of the kernel's
_BEFORE: list = []


def _watch(phase: str, _info: dict) -> None:
    """A collection that begins with the collector on: the kernel's switch, since the harness keeps it off."""
    if phase == "start" and gc.isenabled() and _HELD[0]:
        _SWITCHED_ON[0] += 1


def between_calls() -> None:
    """The garbage of the call before collected, before the next call, in a guarded kernel's process: after every
    call alike (checked, CPU mode's short batch, the outside clock's and the GPU's timed calls). The automatic
    collector had been on for the GPU's timed calls only, so a call could tell them apart (a cycle's finalizer ran
    inside the call there and nowhere else: red-team round 41, bn02); with it off there, an honest kernel leaving a
    cycle a call grew 64 MB a call (round 31, at FV-1).

    The young generations only (``YOUNG``): a call's own garbage is young. A full collection walked again everything
    the kernel's first calls had built after the import's freeze (a Triton compile's lazily imported modules, its
    autotuning): 62 ms a collection for the 205 thousand objects torch's compiler imports on this CPU, and on an H100
    three Triton examples of the README job failed the outside clock by about 0.7 ms a call (session 20; not yet run
    there with this). What outlives two calls is left to the full collection inside each checked request's record
    (``harness.call``'s let-go). Freezing it instead kept cyclic garbage for good (red-team round 54, db FV-7)."""
    if not gc.isenabled():
        gc.collect(YOUNG)


#: The generations ``between_calls`` collects (0 and 1): what survives both is the oldest's, walked by full
#: collections only
YOUNG = 1


def switched_on() -> str | None:
    """Why the kernel's code is ``patching`` where it switched the automatic collector back on, or None."""
    if gc.isenabled() or _SWITCHED_ON[0]:
        return ("the kernel switched the automatic garbage collector back on: it can run a finalizer between the "
                "judge's requests, where no record sees what it does")
    if not any(hook is _watch for hook in _HOOKS):
        return "the kernel took the harness's hook off the garbage collector's callbacks"
    if any(all(hook is not before for before in _BEFORE) for hook in _HOOKS):
        return ("the kernel put a callback on the garbage collector's list: it runs at every collection, the "
                "harness's own between calls too")
    return None

"""The garbage collector's policy in a kernel's process: garbage is collected inside the judge's records only.

The automatic collector ran a kernel's finalizer between two requests, where nothing records, and the finalizer
compiled a GEMM unseen (red-team round 30, aq01). So after a guarded kernel's import (``harness.load``) what the
import made is frozen (``gc.freeze``: a call's own garbage is then collected in milliseconds) and the automatic
collector is off (:func:`hold_off`); a call's garbage goes inside its record (``harness.call``'s let-go), and the
collector switched back on by the kernel's code is ``patching`` (:func:`switched_on`). The exception is the GPU's
timed calls (:func:`collecting`). The reference's process, which only times, keeps its collector.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


def hold_off(guarded: bool) -> None:
    """What the import made kept for good; in a guarded kernel's process, the automatic collector off."""
    gc.freeze()
    if guarded:
        gc.disable()


@contextlib.contextmanager
def collecting() -> Iterator[None]:
    """The automatic collector on for the GPU's timed calls (hundreds, unrecorded): an honest kernel leaving a cycle
    a call grew 64 MB a call with it off (round 31, at FV-1). A finalizer there is as unrecorded as the timed calls:
    the calls after them are recorded and their kernels named, and Inductor compiles to library calls anywhere."""
    was = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was:
            gc.disable()


def switched_on() -> str | None:
    """Why the kernel's code is ``patching`` where it switched the automatic collector back on, or None."""
    if gc.isenabled():
        return ("the kernel switched the automatic garbage collector back on: it can run a finalizer between the "
                "judge's requests, where no record sees what it does")
    return None

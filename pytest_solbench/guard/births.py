"""Which threads of the kernel's process were born while the kernel ran (its import or one of its calls).

The audit (``guard.audit``) attributes an event by the Python stack it was raised on, and a thread whose entry is a
library function or a builtin holds no frame of the kernel's: ``Thread(target=exec, args=(code, ns))`` ran code from
a string, and ``Thread(target=process.start)`` forked, both unattributed (red-team round 21, y07, y01). Python 3.11
raises no audit event when a thread starts, so a thread is told by when it was born: one that was not alive when the
kernel's import or call began, or was born in one and lives on, is the kernel's (or a compiler's it drove, which the
walk still sees by its frames). Told by native thread id (``/proc/self/task``), so a thread native code started that
runs Python later (TorchScript's inter-op pool calling a ``@torch.jit.ignore`` function, round 21, y08) counts too.
Where ``/proc/self/task`` cannot be read, no thread is told apart (the stack walk alone judges, as before).
"""

from __future__ import annotations

import os
import threading


class Births:
    """``enter()`` when the kernel's import or call begins, ``exit()`` when it ends; ``kernels()`` on any thread."""

    def __init__(self) -> None:
        self.before: set[int] = set()  # native ids alive when the current armed block began (filled in place:
        self.born: set[int] = set()  # the tripwires hold both objects, ``Tripwires.__init__``)

    def enter(self) -> None:
        self.before.clear()
        self.before.update(_tasks())

    def exit(self) -> None:
        now = _tasks()
        self.born.update(now - self.before)
        self.born.intersection_update(now)  # an id the kernel's thread held may be reused once it ended

    def kernels(self) -> bool:
        """Whether the calling thread was born while the kernel ran."""
        tid = threading.get_native_id()
        return tid in self.born or (bool(self.before) and tid not in self.before)


def _tasks() -> set[int]:
    try:
        return {int(task) for task in os.listdir("/proc/self/task")}
    except (OSError, ValueError):
        return set()

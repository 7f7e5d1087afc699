"""The runtime anti-cheat checks around one kernel in its worker (DESIGN §10, layers 1, 2 and 4).

Armed before the kernel is imported, so that what the kernel changes can be told from what was there:
the integrity snapshot of everything timing and checking rely on (``integrity``), the audit hook that sees files,
processes, sockets and native loads the kernel's own code asks for (``audit``), the threads and child processes
alive once it is imported, and after each call the outputs' type and which inputs changed. A tripwire is a fact
about what the kernel did, so a static allowance (``SOLBENCH_ALLOW``) does not silence it.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from pytest_solbench.guard import audit

#: Plugin modules whose functions and classes a kernel must leave alone.
from pytest_solbench.guard import integrity
PLUGIN_MODULES = ("pytest_solbench.worker.check", "pytest_solbench.measure.timing", "pytest_solbench.measure.samples",
                  "pytest_solbench.measure.timers", "pytest_solbench.measure.cupti", "pytest_solbench.worker.execute",
                  "pytest_solbench.data.inputs", "pytest_solbench.protocol", "pytest_solbench.guard.tripwires",
                  "pytest_solbench.guard.integrity", "pytest_solbench.guard.audit", "pytest_solbench.worker.pool",
                  "pytest_solbench.worker.harness", "pytest_solbench.worker.shm",
                  "pytest_solbench.worker.inplace")  # fmt: skip


@dataclass(frozen=True)
class Trip:
    """A runtime check that fired: the rule's name and what was seen."""

    rule: str
    message: str


class Tripwires:
    """One per kernel per worker: ``arm()`` around the import and every call, ``settle()`` once imported,
    ``check()`` after each call."""

    def __init__(self, kernel_dirs: Sequence[str]) -> None:
        self.snapshot = integrity.Snapshot.take(PLUGIN_MODULES)
        self.audit = audit.Audit(kernel_dirs)
        self.threads: integrity.ThreadCounts | None = None
        self.children: set[int] = set()
        self.before = set(threading.enumerate())  # the Python threads alive before the kernel is imported
        self.at_import: set[threading.Thread] | None = None  # and those alive once it is

    @contextlib.contextmanager
    def arm(self) -> Iterator[audit.Audit]:
        with self.audit:
            yield self.audit
        if self.at_import is None:  # the first arming is the import
            self.at_import = set(threading.enumerate())

    def settle(self) -> None:
        """What is alive once the kernel is imported and has run once (JIT and autotune threads included)."""
        counts = integrity.thread_counts()
        # A thread started while the kernel was imported (not a compiler's), or one running the kernel's own code,
        # is not part of the baseline: it is what the count is there to catch. Threads a first call starts through
        # a compiler (Inductor's pool, autotuning) are.
        kernels = [t for t in threading.enumerate() if t not in self.before and (
            self._runs(t, self.audit._is_kernel) or (t in (self.at_import or ()) and not self._runs(
                t, self.audit._is_compiler)))]  # fmt: skip
        self.threads = integrity.ThreadCounts(counts.python_threads - len(kernels), None if counts.native_threads
                                              is None else counts.native_threads - len(kernels))  # fmt: skip
        # No child joins the baseline: Inductor compiles in the kernel's process (``guard.confine`` sets one compile
        # thread), so a process alive after a call is the kernel's, however it was started (through a compiler's
        # helper that runs a command, red-team round 7, h04) or dressed (as Inductor's compile worker, round 7b, i01).
        self.children: set[int] = set()

    @staticmethod
    def _runs(thread: threading.Thread, where: Callable[[str], bool]) -> bool:
        """Whether a thread's entry function (its target, or its class's run) is in files ``where`` accepts."""
        entry = getattr(thread, "_target", None) or getattr(type(thread), "run", None)
        code = getattr(getattr(entry, "__func__", entry), "__code__", None)
        return code is not None and where(code.co_filename)

    def check(self) -> Trip | None:
        """After a call: anything patched, any file or process touched, any thread or child left behind."""
        changed = self.snapshot.changed()
        if changed:
            shown = ", ".join(changed[:6]) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")
            return Trip("patching", f"the kernel replaced what timing and checking rely on: {shown}")
        if self.audit.events:
            event = self.audit.events[0]
            return Trip(event.rule, f"the kernel's code did what no kernel needs: {event}")
        detached = integrity.detached_children()
        if detached:
            return Trip("threads", f"processes detached from the kernel's session (setsid) are running: {list(detached)}")
        if self.threads is not None:
            now = integrity.thread_counts()
            grew = now.python_threads > self.threads.python_threads or (
                now.native_threads is not None and self.threads.native_threads is not None
                and now.native_threads > self.threads.native_threads)  # fmt: skip
            if grew:
                return Trip("threads", f"threads still running after the call: {self.threads} -> {now}")
            children = set(integrity.child_processes()) - self.children
            if children:
                return Trip("threads", f"child processes left running after the call: {sorted(children)}")
        return None


PLAIN_RESULTS = (tuple, list, dict)


def strict_result(result: Any) -> Trip | None:
    """What a value-returning kernel returns is looked at only by type first: a tensor, a number, or exactly a
    tuple, list or dict (a subclass's ``__iter__`` or ``keys`` would run kernel code in the harness's delivery)."""
    import torch

    kind = type(result)
    if kind in PLAIN_RESULTS or kind in (int, float, bool) or isinstance(result, torch.Tensor):
        return None
    return Trip("strict-output", f"the kernel returned a {kind.__module__}.{kind.__qualname__}; a value-returning "
                "kernel returns tensors, or exactly a tuple, list or dict of them")  # fmt: skip


def strict_outputs(names: Sequence[str], values: Sequence[Any], inputs: Sequence[Any] = ()) -> Trip | None:
    """A value-returning kernel's outputs must be plain, dense, materialized tensors (or Python numbers) of memory
    of their own: not a broadcast view (a stride 0 over a dimension of 2 or more) nor a view of an input, whose copy
    into the judge's buffer, which the harness makes outside the timed window, would be the work."""
    import torch

    spans = [_span(t) for t in inputs if isinstance(t, torch.Tensor) and t.numel()]
    for name, value in zip(names, values):
        if type(value) in (int, float, bool):
            continue
        why = integrity.strict_tensor(value)
        if why:
            return Trip("tensor-subclass", f"output {name!r} {why}")
        if not value.numel():
            continue
        start, end, extent = _span(value)
        if extent < value.numel():  # more elements than places: some share memory (a broadcast, as_strided)
            return Trip("strict-output", f"output {name!r} is a broadcast or overlapping view (strides "
                        f"{tuple(value.stride())}): its elements are not the kernel's writes")  # fmt: skip
        if any(start < other_end and other_start < end for other_start, other_end, _ in spans):
            return Trip("strict-output", f"output {name!r} lies in an input's memory: its copy into the output buffer "
                        "would be the work")  # fmt: skip
    return None


def _span(t: Any) -> tuple[int, int, int]:
    """The bytes a tensor's elements lie in (first to past the last) and how many element places that is."""
    extent = 1 + sum((size - 1) * abs(stride) for size, stride in zip(t.shape, t.stride()))
    start = t.data_ptr()
    return start, start + extent * t.element_size(), extent


def mutated(changed: set[int], names: Sequence[str], allowed: set[int]) -> Trip | None:
    """An input the kernel changed (``changed``: positions, ``data.inputs.changed``) where the reference leaves it
    alone (``allowed``: inputs the reference itself updates in place)."""
    for index in sorted(changed):
        if index not in allowed:
            return Trip("input-mutation", f"the kernel changed its input {names[index]!r}, which the reference "
                        "leaves alone")  # fmt: skip
    return None

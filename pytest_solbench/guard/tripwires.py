"""The runtime anti-cheat checks around one kernel in its worker (DESIGN §10, layers 1, 2 and 4).

Armed before the kernel is imported, so that what the kernel changes can be told from what was there:
the integrity snapshot of everything timing and checking rely on (``integrity``), the audit hook that sees files,
processes, sockets and native loads the kernel's own code asks for (``audit``), the threads and child processes
alive once it is imported, and after each call the outputs' type and which inputs changed. A tripwire is a fact
about what the kernel did, so a static allowance (``SOLBENCH_ALLOW``) does not silence it.
"""

from __future__ import annotations

import collections

import concurrent.futures.thread as pool_threads
import contextlib
import functools
import inspect
import sys
import threading
import time
import types
import weakref
from concurrent.futures import Future
from dataclasses import dataclass
from queue import SimpleQueue
from typing import Any, Callable, Iterator, Sequence

from pytest_solbench.guard import audit, integrity

#: Plugin modules whose functions and classes a kernel must leave alone.
#: How long ``check`` lets what the call handed off end before it counts as left behind: an honest pool's
#: done-callback, a task that signalled the caller and then tidies up, a joined thread's native teardown end within
#: microseconds of the call; work deferred into this window still ends before the reply (and inside the judge's
#: outside clock). Red-team rounds 9 and 10. The window lies inside the call's operator record (the harness closes it
#: after ``check``): a vendor op run there after the record had stopped passed (round 21, y04, y08). A thread still in
#: the kernel's code at the first look is waited for, not counted at once: honest pools' done-callbacks and tidy-ups
#: are (tests/lookalikes/pool_done_callback.py, pool_result_queue.py).
BUSY_GRACE_S = 1.0

PLUGIN_MODULES = ("pytest_solbench.worker.check", "pytest_solbench.measure.timing", "pytest_solbench.measure.samples",
                  "pytest_solbench.measure.timers", "pytest_solbench.measure.cupti", "pytest_solbench.worker.execute",
                  "pytest_solbench.data.inputs", "pytest_solbench.protocol", "pytest_solbench.guard.tripwires",
                  "pytest_solbench.guard.integrity", "pytest_solbench.guard.audit", "pytest_solbench.worker.pool",
                  "pytest_solbench.worker.harness", "pytest_solbench.worker.shm", "pytest_solbench.worker.channel",
                  "pytest_solbench.worker.inplace",
                  # the operator record is judged in the kernel's process by these: a kernel that replaced
                  # vendor_dispatches passed torch's F.linear (red-team round 22, aa03, aa08)
                  "pytest_solbench.guard.dispatched", "pytest_solbench.guard.corners", "pytest_solbench.guard.tables",
                  "pytest_solbench.guard.families", "pytest_solbench.guard.births",
                  # what the harness asks whenever the kernel's code returns (a mode, a signal handler left behind)
                  "pytest_solbench.guard.leftovers", "pytest_solbench.guard.modes", "pytest_solbench.guard.signals",
                  "pytest_solbench.guard.dispatch_state")  # fmt: skip


@dataclass(frozen=True)
class Trip:
    """A runtime check that fired: the rule's name and what was seen."""

    rule: str
    message: str


class Tripwires:
    """One per kernel per worker: ``arm()`` around the import and every call, ``settle()`` once imported,
    ``check()`` after each call."""

    def __init__(self, kernel_dirs: Sequence[str]) -> None:
        from pytest_solbench.guard.dispatched import hold_the_record

        hold_the_record()  # before the snapshot, which then holds it in place
        self.snapshot = integrity.Snapshot.take(PLUGIN_MODULES)
        self.switch_interval_s = sys.getswitchinterval()  # how long a thread may hold the GIL before it must yield
        self.audit = audit.Audit(kernel_dirs)
        self.threads: set[threading.Thread] | None = None  # the Python threads of the baseline, each by itself
        self.natives = 0  # and how many native threads no Python thread stands for (started by C code)
        self.children: set[int] = set()
        self.before = set(threading.enumerate())  # the Python threads alive before the kernel is imported
        self.at_import: set[threading.Thread] | None = None  # and those alive once it is
        # This object and its audit are reachable from the kernel's process too (red-team round 18, u03):
        self.snapshot.watch("Tripwires", self, ("snapshot", "audit", "switch_interval_s", "before"))
        self.snapshot.watch("Tripwires.audit", self.audit, ("kernel_dirs", "compiler_dirs", "events", "_kinds",
                                                            "births"))  # fmt: skip
        self.snapshot.watch("Tripwires.audit.births", self.audit.births, ("before", "born"))

    @contextlib.contextmanager
    def arm(self) -> Iterator[audit.Audit]:
        with self.audit:
            yield self.audit
        if self.at_import is None:  # the first arming is the import
            self.at_import = set(threading.enumerate())

    def settle(self) -> None:
        """What is alive once the kernel is imported and has run once (JIT and autotune threads included).

        The baseline is the set of threads, not their number: a pool warmed at import and grown in the first call
        is the same pool as one made in the first call (red-team round 8, j03: a count mixed the two). What a
        baseline thread does after a call is ``busy``'s to judge."""
        # A thread started while the kernel was imported (not a compiler's, nor an idle pool's worker, whose tasks
        # ``busy`` watches), or one whose entry is the kernel's own code, is not part of the baseline: it is what
        # the check is there to catch. Threads a first call starts through a compiler (Inductor, autotuning) are.
        alive = set(threading.enumerate())
        self.threads = alive - self._kernels(alive)
        # Native threads no Python thread stands for; after each call one OpenMP team more is allowed per pool worker
        # alive then, whenever it first ran a parallel op (an 8-worker pool made at import whose workers got rows
        # only in later calls was a false ``threads``, round 10, l06b). A team present now is counted twice: loose
        # by at most that, and native threads need native code, which the static rules name.
        self.natives = len(integrity.native_only())
        # No child joins the baseline: Inductor compiles in the kernel's process (``guard.confine`` sets one compile
        # thread), so a process alive after a call is the kernel's, however it was started (through a compiler's
        # helper that runs a command, red-team round 7, h04) or dressed (as Inductor's compile worker, round 7b, i01).
        self.children: set[int] = set()

    def _kernels(self, alive: set[threading.Thread]) -> set[threading.Thread]:
        """The threads of ``alive`` that are the kernel's: born since its import began and running its code, or alive
        once it was imported and neither a compiler's nor an idle pool's worker."""
        return {t for t in alive if t not in self.before and (self._runs(t, self.audit._is_kernel) or (
            t in (self.at_import or ()) and not self._runs(t, self.audit._is_compiler) and not _pool_worker(t)))}

    def _from_import(self) -> str | None:
        """A thread of the kernel's started at its import and still running as the import is answered: it would run
        the kernel's code between the load's reply and the first call, outside any record (red-team round 48, ci)."""
        mine = sorted(t.name for t in self._kernels(set(threading.enumerate())))
        return f"threads the kernel's import started are still running: {mine}" if mine else None

    @staticmethod
    def _runs(thread: threading.Thread, where: Callable[[str], bool]) -> bool:
        """Whether a thread's entry function (its target, a ``threading.Timer``'s function, or its class's run) is in
        files ``where`` accepts."""
        timer = inspect.getattr_static(thread, "function", None) if isinstance(thread, threading.Timer) else None
        entry = getattr(thread, "_target", None) or timer or getattr(type(thread), "run", None)
        code = getattr(getattr(entry, "__func__", entry), "__code__", None)
        return code is not None and where(code.co_filename)

    def busy(self) -> str | None:
        """What a thread other than the caller is doing for the kernel after its call returned, or None.

        A thread may join the baseline by its entry function (a thread pool's worker) and then run the kernel's code
        whenever it is handed some: after the reply, where no clock and no read of the outputs looks (red-team round
        8, j01, through torch's own ``_prefetch_executor``). So after every call no other thread may hold a frame of
        the kernel's files, nor run or queue a pool's task the call did not wait for. An honest kernel that waited for
        its futures may still have a done-callback running, or a task tidying up after it signalled the caller
        (round 9, k02): ``check`` asks again for up to ``BUSY_GRACE_S`` before it counts what is seen here."""
        names = {t.ident: t.name for t in threading.enumerate()}
        for thread in threading.enumerate():
            if _pool_worker(thread) and _queued(getattr(thread, "_args", ())):
                return f"thread {thread.name!r} has tasks queued in its pool that the call did not wait for"
        for ident, frame in sys._current_frames().items():
            if ident == threading.get_ident():
                continue
            doing = self._doing(frame)
            if doing:
                return f"thread {names.get(ident, ident)!r} {doing} after the call returned"
        return None

    def _doing(self, frame: Any) -> str | None:
        """What one thread's stack (innermost ``frame`` out) shows of the kernel's work: its code, or a pool's
        task that the call left behind (running, or taken from the queue)."""
        innermost = frame
        while frame is not None:
            path = frame.f_code.co_filename
            if self.audit._kind(path) == "kernel":
                return f"is running the kernel's code ({path}:{frame.f_lineno})"
            if frame.f_code is pool_threads._WorkItem.run.__code__:
                item = frame.f_locals.get("self")
                if self._open(item):
                    return f"is running a thread pool's task ({_named(item.fn)}) that the call did not wait for"
            if frame.f_code is pool_threads._worker.__code__:
                local = frame.f_locals
                item = local.get("work_item")
                if self._open(item):
                    return f"took a thread pool's task ({_named(item.fn)}) that the call did not wait for"
                if "work_item" not in local and local.get("initializer") is not None and frame is not innermost:
                    return "is running its pool's initializer"  # a worker's first act; it ends within the grace
            frame = frame.f_back
        return None

    def _open(self, item: Any) -> bool:
        """A pool's task not done yet, unless a compiler's own (Inductor's prefetch of its cache key: a function of
        the compiler's, called with no argument). Only the standard library's own types are asked anything: a
        kernel's future or task could answer what it likes, and anything else a worker holds is open. A compiler's
        function handed arguments is no compiler's task: ``functools.partial(time.sleep ...)`` through a helper in
        torch's files held a kernel's task back in the queue until after the call (round 9, k03).
        A task a worker still holds is open even when its future says done: the kernel can set a running task's
        future itself (``Future.set_result`` is public) and leave the task running forever (round 10, l02); an
        honest task leaves the worker within ``check``'s grace once its future is done."""
        if item is None:
            return False
        if type(item) is not pool_threads._WorkItem or type(item.future) is not Future:
            return True
        fn = item.fn
        if type(fn) is not types.FunctionType or item.args or item.kwargs:
            return True
        return not self.audit._is_compiler(fn.__code__.co_filename)

    def check(self) -> Trip | None:
        """After a call: anything patched, any file or process touched, any thread or child left behind."""
        changed = self.snapshot.changed()
        if changed:
            shown = ", ".join(changed[:6]) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")
            return Trip("patching", f"the kernel replaced what timing and checking rely on: {shown}")
        if sys.getswitchinterval() != self.switch_interval_s:  # a helper thread then holds the GIL (round 8, j01)
            return Trip("patching", f"the kernel changed the interpreter's thread switch interval (from "
                        f"{self.switch_interval_s:g} s to {sys.getswitchinterval():g} s): a thread of its own could "
                        "then hold the interpreter while the harness waits")  # fmt: skip
        if self.audit.events:
            event = self.audit.events[0]
            return Trip(event.rule, f"the kernel's code did what no kernel needs: {event}")
        detached = integrity.detached_children()
        if detached:
            return Trip("threads", f"processes detached from the kernel's session (setsid) are running: {list(detached)}")
        look = self._left_behind if self.threads is not None else self._from_import  # before ``settle``: the import
        deadline, pause_s = time.monotonic() + BUSY_GRACE_S, 0.001  # what the call handed off may end first
        while True:
            left = look()
            if left is None or time.monotonic() >= deadline:
                return None if left is None else Trip("threads", left)
            time.sleep(pause_s)  # each look reads /proc: a few quick ones for what ends at once, then fewer
            pause_s = min(2 * pause_s, 0.05)

    def _left_behind(self) -> str | None:
        """A thread, native thread, busy worker or child process the call left behind, or None."""
        # A pool's worker is judged by its tasks (``busy``), whenever it was born: a pool grows on demand, so an
        # honest one may start its second worker in any call. Each may bring its own OpenMP team.
        later = [t for t in threading.enumerate() if t not in self.threads]
        new = [t.name for t in later if not _pool_worker(t)]
        if new:
            return f"threads still running after the call: {new}"
        natives = len(integrity.native_only())
        if natives > self.natives + _openmp_team() * _pool_workers():
            return (f"native threads still running after the call: {self.natives} -> {natives} (started by native "
                    "code, no Python thread stands for them)")  # fmt: skip
        busy = self.busy()
        if busy:
            return busy
        children = set(integrity.child_processes()) - self.children
        if children:
            return f"child processes left running after the call: {sorted(children)}"
        return None


def _pool_worker(thread: threading.Thread) -> bool:
    """A ``concurrent.futures`` thread pool's worker: its tasks, not its entry, say whose work it does. Its entry alone
    does not make one: a thread the kernel starts on ``_worker`` with no pool of its own ran the kernel's work from
    its "initializer" (round 10, l04); a worker is in the live pool its first argument names."""
    if getattr(thread, "_target", None) is not pool_threads._worker:
        return False
    args = getattr(thread, "_args", ())
    reference = args[0] if type(args) is tuple and args else None
    executor = reference() if type(reference) is weakref.ReferenceType else None
    threads = inspect.getattr_static(executor, "_threads", ()) if isinstance(
        executor, pool_threads.ThreadPoolExecutor) else ()  # fmt: skip
    return type(threads) is set and thread in threads


def _pool_workers() -> int:
    return sum(1 for thread in threading.enumerate() if _pool_worker(thread))


def _openmp_team() -> int:
    """The native threads an OpenMP runtime starts for each Python thread that runs a parallel op (libgomp keeps a
    team per calling thread): torch's intra-op threads but the caller; 0 without torch."""
    torch = sys.modules.get("torch")
    return max(0, torch.get_num_threads() - 1) if torch is not None else 0


def _queued(args: Any) -> bool:
    """Whether a pool worker's queue (from its thread's arguments: ``_worker(executor_reference, work_queue, ...)``)
    holds anything. An honest kernel's finished tasks left it empty. A pool shut down without waiting still runs
    what it holds (round 9, k03: the kernel's task queued behind a delay, then ``shutdown(wait=False)``); the None a
    shutdown puts there is taken as its workers end, within ``check``'s grace. Read from the thread, not its frames:
    a worker just started has no frame in the pool yet."""
    if type(args) is not tuple or len(args) < 2:
        return False
    return type(args[1]) is SimpleQueue and args[1].qsize() > 0


def _code(fn: Any) -> Any:
    """The code of a task's function under ``functools.partial`` layers and bound methods (standard types only:
    nothing of the kernel's runs to find it); None for a builtin or any other callable."""
    for _ in range(8):
        if type(fn) is functools.partial:
            fn = fn.func
        elif type(fn) is types.MethodType:
            fn = fn.__func__
        else:
            break
    return fn.__code__ if type(fn) is types.FunctionType else None


def _named(fn: Any) -> str:
    """A task's function as a user finds it: file and line, or a builtin's name."""
    code = _code(fn)
    if code is not None:
        return f"{code.co_name} at {code.co_filename}:{code.co_firstlineno}"
    return fn.__qualname__ if type(fn) is types.BuiltinFunctionType else type(fn).__name__


PLAIN_RESULTS = (tuple, list, dict)


def strict_result(result: Any) -> Trip | None:
    """What a value-returning kernel returns is looked at only by type first: a tensor, a number, or exactly a
    tuple, list or dict (a subclass's ``__iter__`` or ``keys`` would run kernel code in the harness's delivery)."""
    import torch

    kind = type(result)
    if kind in PLAIN_RESULTS or kind in (int, float, bool) or isinstance(result, torch.Tensor) or _named_tuple(kind) or (
            kind is collections.OrderedDict):  # C's own, like dict's (round 45, ca f01)
        return None
    return Trip("result-type", f"the kernel returned a {kind.__module__}.{kind.__qualname__}; a value-returning "
                "kernel returns tensors, or exactly a tuple, list or dict of them (a named tuple or an OrderedDict "
                "too): another object's items or attributes are not read, since reading them could run its code")


#: What ``collections.namedtuple`` and ``typing.NamedTuple`` put in a class's namespace (and Python, per version):
#: none of it runs when the class's instance is read as a tuple
NAMED_TUPLE_DUNDERS = frozenset(("__doc__", "__getnewargs__", "__match_args__", "__module__", "__new__", "__repr__",
                                 "__slots__", "__annotations__", "__orig_bases__", "__annotate__", "__annotate_func__",
                                 "__annotations_cache__", "__static_attributes__", "__firstlineno__", "__qualname__",
                                 # for display only, and what ``type`` makes for a class without __slots__
                                 "__str__", "__format__", "__dict__", "__weakref__"))


def _named_tuple(kind: type) -> bool:
    """A class ``collections.namedtuple`` or ``typing.NamedTuple`` made (FLUX's ``apply_rope`` returns one: round 44,
    bx13), or a subclass of one with methods (the Python docs' idiom: round 45, ca c01): every class down to ``tuple``
    made by ``type`` itself, one base each, the fields named, and no hook of its own that reading it as a tuple, or
    letting it go, would run (its own methods are never called)."""
    chain = []
    while kind is not tuple:
        if type(kind) is not type or len(kind.__bases__) != 1 or len(chain) > 8:
            return False
        chain.append(vars(kind))
        kind = kind.__bases__[0]
    return bool(chain) and isinstance(chain[-1].get("_fields"), tuple) and all(
        k in NAMED_TUPLE_DUNDERS for space in chain for k in space if k.startswith("__") and k.endswith("__"))


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

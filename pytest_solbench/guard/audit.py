"""What a kernel's own Python code asks the interpreter for that no kernel needs, seen through audit hooks (PEP 578).

The static rules read what a kernel says; this sees what it does, aliases and ``exec`` included. While an
:class:`Audit` is armed (a ``with`` block around the kernel's import and calls), each audited event (a file opened,
a process started, a socket, a native library, the garbage collector searched) is attributed by walking up the
Python stack from where it was raised: through the standard library and other helpers (``pathlib``, ``numpy``...),
until a frame of the kernel's own files is met (the event is the kernel's: recorded), or a frame of a compiler the
kernel legitimately drives (Triton writing its cache, Inductor or torch building an extension) or of the import
machinery (imports are the static rules' business): not recorded. Only torch's compiling parts count as compilers:
its wrappers (``torch.no_grad()(f)``, autograd, ``nn``) are passed through like the standard library, or a kernel
would hide any call behind one. A compiler does not end the walk either: a kernel can hand a compiler any callable
(``torch.fx.node.map_aggregate(args, partial(numpy.savetxt, ...))``, an autotuner's hook), and from the frames alone
the callable's work looks like the compiler's. So where a kernel frame lies above a compiler's, the event is excused
only if compilers do such things on a kernel's behalf (``COMPILER_MAY``: reading files, writing inside the temp and
cache folders, running their toolchains, loading what they built) and is the kernel's otherwise: a write elsewhere,
a socket, a frame or trace hook, through whatever library. A kernel reading its own folder is fine. Code compiled
from a string counts when the kernel's own line asks, or a library that is neither the standard library nor a
compiler asks on its behalf (sympy evaluating a string, red-team round 14): not where only the standard library lies
between (a dataclass's generated methods) or a compiler asked.

One event is stopped, not only recorded: a signal (``os.kill``, ``os.killpg``) to a process that is neither this
one nor one it started raises ``PermissionError`` before it is sent, whoever asked (a kernel has no business with the
judge, the controller or a neighbour, and a library that signals does so to its own workers): a kernel that reached
``os.kill`` through a torch helper and ``torch.jit.fork`` stopped its judge before (red-team round 3).

Native code (C++/CUDA) raises no audit events: the static C++ rules and the process and thread counts cover it.
An audit hook cannot be removed, so one is installed per process, on first use, and stays silent while disarmed.

Long: an event's attribution is one walk up the stack with its excuses (compilers and what they may do, their cache
folders, the import machinery, code compiled from strings for the kernel); apart, each excuse would need the walk.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import sysconfig
import threading
import typing
from dataclasses import dataclass
from typing import Any, Sequence

from pytest_solbench.guard.annotations import is_plain_type
from pytest_solbench.guard.births import Births

# Audit event -> the guard rule it belongs to (see guard.RULES).
EVENTS: dict[str, str] = {
    **dict.fromkeys(("open", "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.truncate",
                     "os.symlink", "os.link", "shutil.rmtree", "shutil.copyfile", "shutil.move", "socket.connect",
                     "socket.bind", "socket.getaddrinfo", "urllib.Request", "http.client.connect", "os.putenv",
                     "os.unsetenv"), "file-network-os"),
    **dict.fromkeys(("subprocess.Popen", "os.system", "os.exec", "os.fork", "os.forkpty", "os.posix_spawn",
                     "os.spawn", "os.kill", "os.killpg", "_thread.start_new_thread"), "threads"),
    **dict.fromkeys(("ctypes.dlopen", "ctypes.dlsym", "ctypes.addressof", "ctypes.string_at", "exec", "compile",
                     "cpython.run_command", "pickle.find_class"), "runtime-load"),
    # a code object built or edited (CodeType(...), code.replace(co_names=...)) and a function made of one
    # (type(f)(code, globals)): any name the static rules read can be renamed so (red-team round 18, v08)
    **dict.fromkeys(("code.__new__", "function.__new__"), "runtime-load"),
    **dict.fromkeys(("gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
                     "sys.settrace", "sys.setprofile", "sys.addaudithook", "sys._getframe"), "introspection"),
}  # fmt: skip
# Events judged only where the kernel's own line asks: libraries it calls read their callers' frames as a matter of
# course (logging, typing, torch), and ``sys._getframe`` reached by a name the rules do not follow handed the harness's
# frames to the kernel (red-team round 19, w04d).
OWN_LINE = {"sys._getframe"}
# A fork while the kernel runs is the kernel's whoever asked: the operator record cannot follow the child (y01).
FORKS = {"os.fork", "os.forkpty"}
STARTED = "a thread started while the kernel ran"  # where an event on such a thread, with no kernel frame, comes from
WRITE_MODES = set("wax+")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
IMPORT_MACHINERY = "<frozen importlib."
DIRECT = {"exec", "compile"}
# Packages (and torch's subpackages) that read and write files, spawn compilers and load native code on a kernel's
# behalf. Not torch as a whole: torch.no_grad()(f) would make any f's events torch's.
COMPILERS = ("triton", "torch._inductor", "torch._dynamo", "torch._functorch", "torch.fx", "torch._subclasses",
             "torch._higher_order_ops", "torch._export", "torch.export", "torch.utils.cpp_extension",
             "torch.utils._triton", "torch.cuda", "torch.backends", "torch.jit", "torch._ops", "torch._library",
             "torch.library", "torch._logging", "torch._guards", "torch._utils_internal", "tvm_ffi", "tvm", "cutlass",
             "cuda", "nvidia", "tilelang", "cupy", "setuptools")  # fmt: skip


# What a compiler may do on a kernel's behalf (a kernel frame above the compiler's): file events within the folders
# compilers write to (``_writable_roots``; reads anywhere), processes and threads (toolchains, compile workers),
# environment variables, loading native code and unpickling caches, Inductor's gc searches. Never a socket, a frame
# or trace hook, a new audit hook or running a command string.
COMPILER_MAY = {"threads", "runtime-load"} | {"os.putenv", "os.unsetenv", "gc.get_objects", "gc.get_referrers"}
NEVER_VIA_COMPILER = {"cpython.run_command", "socket.connect", "socket.bind", "socket.getaddrinfo", "urllib.Request",
                      "http.client.connect"}  # fmt: skip
# Which arguments of a path event name what it changes, each with the index of its dir_fd argument (None: none).
CHANGED_PATHS: dict[str, tuple[tuple[int, int | None], ...]] = {
    "open": ((0, None),), "os.truncate": ((0, None),), "os.remove": ((0, 1),), "os.rmdir": ((0, 1),),
    "os.mkdir": ((0, 2),), "os.chmod": ((0, 2),), "os.rename": ((0, 2), (1, 3)), "os.link": ((1, 3),),
    "os.symlink": ((1, 2),), "shutil.rmtree": ((0, None),), "shutil.copyfile": ((1, None),),
    "shutil.move": ((0, None), (1, None)),
}
PATH_EVENTS = set(CHANGED_PATHS)


@dataclass(frozen=True)
class AuditEvent:
    rule: str
    event: str
    detail: str
    where: str  # "file:line" of the kernel's frame that caused it

    def __str__(self) -> str:
        return f"{self.where}: [{self.rule}] {self.event} {self.detail}"


class Audit:
    """Records the audited events a kernel's files cause while armed (``with audit: ...``)."""

    def __init__(self, kernel_dirs: Sequence[str | os.PathLike], compilers: Sequence[str] = COMPILERS) -> None:
        self.kernel_dirs = tuple(os.path.realpath(d) + os.sep for d in kernel_dirs)
        self.compiler_dirs = _package_dirs(compilers)
        self.writable: tuple[str, ...] | None = None  # found when first armed: confinement may set the folders after
        self.closed: tuple[str, ...] = ()  # within them, where no compiler writes for a kernel (``_closed_roots``)
        self.events: list[AuditEvent] = []
        self._kinds: dict[str, str] = {}  # co_filename -> "kernel", "compiler" or "" (the walk runs on every event)
        self.births = Births()  # the threads born while the kernel ran: their events are its own (round 21, y01, y07)

    def __enter__(self) -> Audit:
        if self.writable is None:  # here, never inside the hook: an event raised while tempfile holds its lock
            self._roots()  # asked gettempdir() for the same lock, and the kernel's process hung (round 19, w07)
        if not _ARMED:
            sys.addaudithook(_hook)  # once per process: a hook cannot be removed, only silenced
            _ARMED.append(None)
        self.births.enter()
        _ARMED[0] = self
        return self

    def __exit__(self, *exc: Any) -> None:
        _ARMED[0] = None
        self.births.exit()

    def _is_kernel(self, path: str) -> bool:
        return not path.startswith("<") and os.path.realpath(path).startswith(self.kernel_dirs)

    def _is_compiler(self, path: str) -> bool:  # also: whose thread a thread is (tripwires)
        """A compiler's own file: one that exists (code compiled at run time under a made-up name beside a compiler's,
        ``subclass_codegen.py:codegen(wrap)``, passed the kernel's code off as the compiler's: round 17, t04)."""
        return (not path.startswith("<") and os.path.realpath(path).startswith(self.compiler_dirs)
                and os.path.isfile(path))  # fmt: skip

    def _kind(self, path: str) -> str:
        kind = self._kinds.get(path)
        if kind is None:
            kind = self._kinds[path] = ("kernel" if self._is_kernel(path) else
                                        "compiler" if self._is_compiler(path) else "")  # fmt: skip
        return kind

    def _kernel_frame(self, frame: Any, event: str, args: tuple) -> str | None:
        """"file:line" of the kernel frame an event comes from; None when a compiler (doing what compilers do) or the
        harness asked."""
        if event in DIRECT:
            return self._string_code_frame(frame, args)
        if event in FORKS:
            return self._nearest_kernel_frame(frame) or (STARTED if self.births.kernels() else "the kernel's process")
        if event in OWN_LINE:
            path = frame.f_code.co_filename if frame is not None else "<none>"
            return f"{os.path.basename(path)}:{frame.f_lineno}" if self._kind(path) == "kernel" else None
        via = None  # the first compiler frame met on the way up
        while frame is not None:
            path = frame.f_code.co_filename
            kind = self._kind(path)
            if kind == "kernel":
                where = f"{os.path.basename(path)}:{frame.f_lineno}"
                if via is None:
                    return where
                return None if self._compiler_may(event, args, via) else f"{where} (through {via})"
            if path.startswith(IMPORT_MACHINERY):
                return None  # an import: the static rules' business
            if kind == "compiler" and via is None:
                via = frame.f_globals.get("__name__", os.path.basename(path))
            frame = frame.f_back
        if self.births.kernels():  # no kernel frame, on a thread the kernel started (round 21, y01, y07)
            if via is None:
                return STARTED
            return None if self._compiler_may(event, args, via) else f"{STARTED} (through {via})"
        return None

    def _string_code_frame(self, frame: Any, args: tuple = ()) -> str | None:
        """"file:line" of the kernel frame for code compiled from a string: asked on the kernel's own line, or on its
        behalf by a library that is neither the standard library nor a compiler (sympy.sympify evaluating a string
        the kernel wrote, red-team round 14, q08). None where a compiler (Triton's launcher, Inductor's output, a
        TorchScript annotation) or the import machinery asked, or only the standard library between the kernel and
        the event (a dataclass's generated methods, a namedtuple). ``typing`` compiling a string that is more than a
        type counts as such a library: it compiles whatever string a kernel hands it as a type, as data too
        (``NamedTuple("S", [("x", "<code>")])``), and evaluates it later (red-team round 18, v09); a compiler asking
        typing so (``custom_op`` reading annotations) excuses it no more."""
        if _typing_compiles_type(frame, args):
            return None  # a plain type's name: ``Optional["torch.classes..."]`` in torch's record_function (round 21, L3)
        via = None  # the first frame of a library that is neither, on the way up
        first, code = True, False  # code: typing compiles a string that is more than a type, which no compiler asks
        while frame is not None:
            path = frame.f_code.co_filename
            kind = self._kind(path)
            if kind == "kernel":
                where = f"{os.path.basename(path)}:{frame.f_lineno}"
                return where if first else None if via is None else f"{where} (through {via})"
            if (kind == "compiler" and not code) or path.startswith(IMPORT_MACHINERY):
                return None
            code = code or (first and _typing_compiles_code(path, args))
            if via is None and (not _is_standard_library(path) or code):
                via = frame.f_globals.get("__name__", os.path.basename(path))
            first = False
            frame = frame.f_back
        if self.births.kernels():  # code from a string on a thread the kernel started: ``Thread(target=exec)``, y07
            return STARTED if via is None else f"{STARTED} (through {via})"
        return None

    def _nearest_kernel_frame(self, frame: Any) -> str | None:
        """"file:line" of the first kernel frame up the stack, whatever lies between."""
        while frame is not None:
            if self._kind(frame.f_code.co_filename) == "kernel":
                return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
            frame = frame.f_back
        return None

    def _compiler_may(self, event: str, args: tuple, via: str = "") -> bool:
        """Whether a compiler does this on a kernel's behalf (see ``COMPILER_MAY``); ``via``: the compiler's module
        nearest the event (a cache manager writes only within its own cache: ``CACHE_WRITERS``)."""
        if event in NEVER_VIA_COMPILER:
            return False
        if EVENTS[event] in COMPILER_MAY or event in COMPILER_MAY:
            return True
        if event not in PATH_EVENTS:
            return False
        if event == "open" and not _writes(args):
            return True
        if event == "os.mkdir" and args and isinstance(args[0], (str, bytes, os.PathLike)) and os.path.isdir(args[0]):
            return True  # makedirs(..., exist_ok=True) over a folder that is there: nothing changes
        args = tuple(args)
        caches = next((roots() for name, roots in CACHE_WRITERS.items() if via == name or via.startswith(name + ".")),
                      None)  # fmt: skip
        return all(self._writable_path(args[i] if i < len(args) else None,
                                       args[fd] if fd is not None and fd < len(args) else None, caches)
                   for i, fd in CHANGED_PATHS[event])  # fmt: skip

    def _writable_path(self, path: Any, dir_fd: Any = None, roots: tuple[str, ...] | None = None) -> bool:
        """Whether a compiler may change ``path``: within ``roots`` (default: ``_writable_roots``), never within
        ``_closed_roots`` nor the kernel's folders."""
        if isinstance(path, int):
            return True  # an open descriptor: its opening was seen
        if not isinstance(path, (str, bytes, os.PathLike)):
            return False
        if self.writable is None:
            self._roots()
        path = os.fsdecode(path)
        if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(path):
            try:  # relative to a folder held open (shutil.rmtree, Inductor's cache): that folder's place
                path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)
            except OSError:
                return False
        real = os.path.realpath(path)
        if any(real == root or real.startswith(root + os.sep) for root in self.closed):
            return False
        return any(real == root or real.startswith(root + os.sep) for root in roots or self.writable)

    def _roots(self) -> None:
        self.writable = _writable_roots()
        self.closed = _closed_roots() + tuple(d.rstrip(os.sep) for d in self.kernel_dirs)

    def _record(self, event: str, args: tuple, frame: Any) -> None:
        if event == "open":
            path = tuple(args)[0] if args else None
            if isinstance(path, int) or (not _writes(args) and isinstance(path, (str, bytes)) and (
                    self._is_kernel(os.fsdecode(path)) or _loaded_source(os.fsdecode(path)))):  # fmt: skip
                return  # an open descriptor, the kernel reading its own files, or the source of a loaded module
        if event in ("exec", "compile") and _importing(frame):
            return  # a module's code from its file, run by the import machinery (the static rules read it)
        where = self._kernel_frame(frame, event, args)
        if where is not None:
            shown = tuple(args)[1:3] if event == "code.__new__" else tuple(args)[:2]  # its file and name, not bytes
            detail = ", ".join(repr(a)[:80] for a in shown)
            self.events.append(AuditEvent(EVENTS[event], event, detail, where))


def _writes(args: tuple) -> bool:
    """Whether an ``open`` event's mode or flags write."""
    _path, mode, flags = (tuple(args) + (None, None, None))[:3]
    return (isinstance(mode, str) and bool(WRITE_MODES & set(mode))) or (
        mode is None and isinstance(flags, int) and bool(flags & WRITE_FLAGS))


_STDLIB = tuple(os.path.realpath(sysconfig.get_path(k)) + os.sep for k in ("stdlib", "platstdlib"))


@functools.lru_cache(maxsize=4096)
def _is_standard_library(path: str) -> bool:
    """Whether a frame's file is the standard library's (its folder, not site-packages; or a frozen module)."""
    if path.startswith("<frozen "):
        return True
    real = os.path.realpath(path)
    return real.startswith(_STDLIB) and f"{os.sep}site-packages{os.sep}" not in real and (
        f"{os.sep}dist-packages{os.sep}" not in real)  # fmt: skip


_TYPING = os.path.realpath(typing.__file__)


def _typing_compiles_type(frame: Any, args: tuple) -> bool:
    """Whether ``typing`` itself compiles a plain type's name (``is_plain_type``): no code, whoever asked it."""
    source = tuple(args)[0] if args else None
    if frame is None or not isinstance(source, (str, bytes)) or os.path.realpath(frame.f_code.co_filename) != _TYPING:
        return False
    return is_plain_type(source.decode("utf-8", "replace") if isinstance(source, bytes) else source)


def _typing_compiles_code(path: str, args: tuple) -> bool:
    """Whether ``typing`` itself compiles a string that is not a plain type (the ``compile`` event's source): a
    ``ForwardRef`` of code, which ``get_type_hints`` would evaluate with only the standard library between."""
    source = tuple(args)[0] if args else None
    if not isinstance(source, (str, bytes)) or os.path.realpath(path) != _TYPING:
        return False  # an eval of a ForwardRef's code: its compile was judged
    return not is_plain_type(source.decode("utf-8", "replace") if isinstance(source, bytes) else source)


def _importing(frame: Any) -> bool:
    """Whether the import machinery itself compiles or runs this code (a module's own file): code compiled from a
    file elsewhere (a compiler's loader handed a file, ``torch.jit``'s evaluator given a string as its file name) is
    judged as code from a string (round 15), and so is an ``eval`` a kernel's module body reaches while it is being
    imported, with the machinery further up (round 16, s04)."""
    return frame is not None and frame.f_code.co_filename.startswith(IMPORT_MACHINERY)


def _public_roots() -> tuple[str, ...]:
    """Where installed Python code lies: the standard library, site-packages, and this package (an editable install
    lies outside site-packages). Fixed when this module is imported, before any kernel runs."""
    import pytest_solbench

    paths = [sysconfig.get_path(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    paths.append(os.path.dirname(os.path.abspath(pytest_solbench.__file__)))
    return tuple(sorted({os.path.realpath(p) + os.sep for p in paths if p}))


_PUBLIC = _public_roots()


def _loaded_source(path: str) -> bool:
    """Whether ``path`` is the Python source of installed code: what ``warnings`` and ``traceback`` read to show a
    line (``linecache``), code the process runs anyway. A kernel's ``warnings.warn(stacklevel=2)`` or
    ``logging.exception`` read the harness's and Triton's sources and was REWARD_HACK (red-team round 14, h07, h08).
    Judged by where the file lies, never by ``sys.modules``, which a kernel can write (round 15, r12)."""
    real = os.path.realpath(path)
    return real.endswith(".py") and real.startswith(_PUBLIC)


def _writable_roots() -> tuple[str, ...]:
    """The folders compilers write to: the temp folder (private under confinement) and the compiler caches."""
    import tempfile

    home = os.path.expanduser("~")
    roots = [tempfile.gettempdir(), os.path.join(home, ".triton"), os.path.join(home, ".cache"),
             *(os.environ.get(v) for v in ("TRITON_CACHE_DIR", "TRITON_HOME", "TORCHINDUCTOR_CACHE_DIR",
                                           "TORCH_EXTENSIONS_DIR", "XDG_CACHE_HOME", "PYTHONPYCACHEPREFIX",
                                           "CUDA_CACHE_PATH"))]  # fmt: skip
    return tuple(sorted({os.path.realpath(r) for r in roots if r} | {os.devnull}))  # /dev/null: subprocess.DEVNULL


def _triton_caches() -> tuple[str, ...]:
    """Where Triton's cache manager writes: its cache, dump and override folders (``triton.knobs.cache``), as the
    environment names them (a kernel that changes the environment is seen doing so: ``os.putenv``)."""
    home = os.path.join(os.environ.get("TRITON_HOME") or os.path.expanduser("~"), ".triton")
    roots = [home, *(os.environ.get(v) for v in ("TRITON_CACHE_DIR", "TRITON_DUMP_DIR", "TRITON_OVERRIDE_DIR"))]
    return tuple(sorted({os.path.realpath(r) for r in roots if r}))


#: Compilers' cache managers (module -> the folders they write to): ``FileCacheManager(<absolute dir>).put`` joins an
#: absolute key into any folder, and wrote a ``.pyc`` and a ``late.py`` where the kernel's imports would find them,
#: excused as a compiler's write in the temp folder (red-team round 18, u01, u02).
CACHE_WRITERS = {"triton.runtime.cache": _triton_caches}


def _closed_roots() -> tuple[str, ...]:
    """Folders within the writable ones that no compiler writes to on a kernel's behalf: the plugin's own (a
    solution's sources, which it imports) and the bytecode prefix. Triton's ``FileCacheManager(<absolute dir>)``
    writes wherever its key points, and a ``.pyc`` planted in ``sys.pycache_prefix`` and a ``late.py`` in a
    solution's folder were excused as Triton's cache writes (red-team round 18, u01, u02)."""
    roots = [os.environ.get("SOLBENCH_CACHE_DIR"), os.environ.get("PYTHONPYCACHEPREFIX"), sys.pycache_prefix]
    return tuple(sorted({os.path.realpath(r) for r in roots if r}))


def _package_dirs(names: Sequence[str]) -> tuple[str, ...]:
    """Path prefixes of the packages (folders) and modules (files) named, found without importing them."""
    dirs = []
    for name in names:
        top, *rest = name.split(".")
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            continue
        for root in (spec.submodule_search_locations or ()) if spec else ():
            path = os.path.realpath(os.path.join(root, *rest))
            if os.path.isdir(path):
                dirs.append(path + os.sep)
            elif os.path.isfile(path + ".py"):
                dirs.append(path + ".py")
    return tuple(dirs) or ("\0",)


SIGNALS = ("os.kill", "os.killpg")


def _own_process(event: str, args: tuple) -> bool:
    """Whether a signal goes to this process, its own process group, or a process it started (or their groups)."""
    target = args[0] if args else None
    if not isinstance(target, int):
        return False
    me = os.getpid()
    if event == "os.killpg" or target < -1:
        group = abs(target)
        return group == os.getpgid(0) or _descends(group, me)
    if target == 0:
        return True  # this process's own group
    return target == me or (target > 0 and _descends(target, me))


def _descends(pid: int, ancestor: int) -> bool:
    """Whether ``pid`` is a descendant of ``ancestor`` (through /proc; False where it cannot tell)."""
    from pytest_solbench.guard.integrity import proc_stat

    for _ in range(64):
        fields = proc_stat(pid)
        if fields is None:
            return False
        pid = int(fields[1])  # the parent's
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
    return False


_ARMED: list[Audit | None] = []  # [the armed Audit or None] once the hook is installed
_BUSY = threading.local()  # the hook's own stack walk raises events too


def _hook(event: str, args: tuple) -> None:
    audit = _ARMED[0] if _ARMED else None
    if audit is None or event not in EVENTS or getattr(_BUSY, "on", False):
        return
    _BUSY.on = True
    try:
        if event in SIGNALS and not _own_process(event, args):
            where = audit._nearest_kernel_frame(sys._getframe(1)) or "the kernel's process"
            audit.events.append(AuditEvent("threads", event, f"signal {args[1]!r} to {args[0]!r}, a process not its "
                                           "own: stopped", where))  # fmt: skip
            raise PermissionError(f"a kernel's process may signal only itself and the processes it started, not "
                                  f"{args[0]!r} (solbench)")  # fmt: skip
        audit._record(event, args, sys._getframe(1))
    finally:
        _BUSY.on = False

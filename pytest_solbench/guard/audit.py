"""What a kernel's own Python code asks the interpreter for that no kernel needs, seen through audit hooks (PEP 578).

The static rules read what a kernel says; this sees what it does, aliases and ``exec`` included. While an
:class:`Audit` is armed (a ``with`` block around the kernel's import and calls), each audited event (a file opened,
a process started, a socket, a native library, the garbage collector searched) is attributed by walking up the
Python stack from where it was raised: through the standard library and other helpers (``pathlib``, ``numpy``...),
until a frame of the kernel's own files is met (the event is the kernel's: recorded), or a frame of a compiler the
kernel legitimately drives (Triton writing its cache, Inductor or torch building an extension) or of the import
machinery (imports are the static rules' business): not recorded. Only torch's compiling parts stop the walk: its
wrappers (``torch.no_grad()(f)``, autograd, ``nn``) are passed through like the standard library, or a kernel would
hide any call behind one. A kernel reading its own folder is fine; ``exec`` and
``compile`` count only when the kernel's own line calls them (the standard library execs for dataclasses too).

Native code (C++/CUDA) raises no audit events: the static C++ rules and the process and thread counts cover it.
An audit hook cannot be removed, so one is installed per process, on first use, and stays silent while disarmed.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any, Sequence

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
    **dict.fromkeys(("gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
                     "sys.settrace", "sys.setprofile", "sys.addaudithook"), "introspection"),
}  # fmt: skip
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
        self.events: list[AuditEvent] = []

    def __enter__(self) -> Audit:
        if not _ARMED:
            sys.addaudithook(_hook)  # once per process: a hook cannot be removed, only silenced
            _ARMED.append(None)
        _ARMED[0] = self
        return self

    def __exit__(self, *exc: Any) -> None:
        _ARMED[0] = None

    def _is_kernel(self, path: str) -> bool:
        return not path.startswith("<") and os.path.realpath(path).startswith(self.kernel_dirs)

    def _is_compiler(self, path: str) -> bool:  # also: whose thread a thread is (tripwires)
        return not path.startswith("<") and os.path.realpath(path).startswith(self.compiler_dirs)

    def _kernel_frame(self, frame: Any, direct: bool) -> str | None:
        """"file:line" of the kernel frame an event comes from; None when a compiler or the harness asked."""
        while frame is not None:
            path = frame.f_code.co_filename
            if self._is_kernel(path):
                return f"{os.path.basename(path)}:{frame.f_lineno}"
            if direct or path.startswith(IMPORT_MACHINERY) or self._is_compiler(path):
                return None  # a compiler's own work, or an import (imports are the static rules' business)
            frame = frame.f_back
        return None

    def _record(self, event: str, args: tuple, frame: Any) -> None:
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            writes = (isinstance(mode, str) and bool(WRITE_MODES & set(mode))) or (
                mode is None and isinstance(flags, int) and bool(flags & WRITE_FLAGS)
            )
            if isinstance(path, int) or (not writes and isinstance(path, (str, bytes))
                                         and self._is_kernel(os.fsdecode(path))):  # fmt: skip
                return  # an open descriptor, or the kernel reading its own files
        if event in ("exec", "compile") and not str(getattr(args[0], "co_filename", args[-1])).startswith("<"):
            return  # a module's code from its file (an import), not a string
        where = self._kernel_frame(frame, direct=event in DIRECT)
        if where is not None:
            detail = ", ".join(repr(a)[:80] for a in tuple(args)[:2])
            self.events.append(AuditEvent(EVENTS[event], event, detail, where))


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


_ARMED: list[Audit | None] = []  # [the armed Audit or None] once the hook is installed
_BUSY = threading.local()  # the hook's own stack walk raises events too


def _hook(event: str, args: tuple) -> None:
    audit = _ARMED[0] if _ARMED else None
    if audit is None or event not in EVENTS or getattr(_BUSY, "on", False):
        return
    _BUSY.on = True
    try:
        audit._record(event, args, sys._getframe(1))
    finally:
        _BUSY.on = False

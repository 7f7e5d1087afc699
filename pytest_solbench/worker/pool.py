"""Worker processes that run untrusted kernel code, one call at a time; crashes and hangs become WorkerErrors.

Two kinds of reply: a trusted worker (the judge) answers with a pickle; a kernel's worker (``plain=True``) answers
with JSON only, read by ``_plain_reply``, so nothing a kernel's process writes is ever unpickled by its parent. Each
request to a plain worker carries a fresh nonce its reply must echo: a frame a kernel writes on the reply channel
itself (an extra answer, to shift every later one) is refused. A worker dies with its parent
(``PR_SET_PDEATHSIG``; a judge closes its own pools first), and killing a plain one kills its process group
(everything the kernel started there) too.

A worker that is stopped (SIGSTOP from a process of the same user: a kernel signalling its judge) is killed after
``STOPPED_GRACE_S`` and its call is a TIMEOUT that says so, instead of a wait to the end of the call's limit.

``last_reply_ms`` is each call's wall time from the request sent to the reply's arrival, taken before what the
judge does after it (the scan for a confined kernel's strays, ``guard.reap``): the outside clock and the round
trip it subtracts are both that figure, so no scan's cost falls in one and not the other (red-team round 6, g09).

Long: the child's loop, one worker, a pool of them, a pool per tenant and the in-process stand-in share one call
interface and one error type; apart they would each import the others.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import weakref
from multiprocessing.connection import Connection
from typing import Any, Callable, Iterator, Sequence

from pytest_solbench.protocol import Status
from pytest_solbench.worker import channel

RUNTIME_ERROR, TIMEOUT = Status.RUNTIME_ERROR, Status.TIMEOUT
# A plain worker's reply that is not the JSON it must be is the kernel's own doing: the judge reads it as a hack.
MALFORMED = Status.REWARD_HACK
STDERR_TAIL_LINES = 20
STOPPED_GRACE_S = 5.0
PR_SET_PDEATHSIG = 1
MARKS_ENV = "SOLBENCH_JUDGE_MARKS"  # in a judge's environment: the file where it notes its kernels' marks
MARKS_PREFIX = "solbench-marks-"  # + the controller's pid + "-": the file of one judge's marks, in the temp folder
MAX_PLAIN_REPLY_BYTES = 64 << 20
FDS_PER_MESSAGE = 253  # SCM_MAX_FD: Linux refuses more descriptors in one message

# A fresh interpreter that imports only this module (not pytest, not the plugin) and serves calls over the fd.
# Python puts the working directory ('') first on a ``-c`` process's path: it is taken off before any import, so a
# ``json.py`` where pytest was started cannot run in the judge (red-team round 11, m06; ``worker_path``).
_BOOT = ("import sys; sys.path[:] = [{root!r}, *filter(None, sys.path)]; "
         "from pytest_solbench.worker.pool import _serve; _serve(int(sys.argv[1]))")  # fmt: skip
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class WorkerError(Exception):
    """A call that did not return: the target raised, the worker died, or it ran past its timeout.

    ``outcome`` is what a target that retired its worker had found (``execute.CudaContextLost.outcome``): the
    verdict travels as that field, never inside the message text."""

    def __init__(
        self,
        status: Status,
        message: str,
        *,
        outcome: Any = None,
        stderr_tail: str = "",
        exitcode: int | None = None,
        signal_name: str | None = None,
        traceback_text: str = "",
        worker_pid: int | None = None,
        malformed: bool = False,
        rule: str | None = None,
    ) -> None:
        super().__init__(f"{status}: {message}")
        self.malformed = malformed  # a plain worker answered off its JSON schema
        self.rule = rule  # the guard's rule a kernel's process broke, seen from outside it (strays: "threads")
        self.status, self.message, self.stderr_tail = Status(status), message, stderr_tail
        self.exitcode, self.signal_name, self.traceback_text = exitcode, signal_name, traceback_text
        self.worker_pid, self.outcome = worker_pid, outcome

    def details(self) -> str:
        """The message, then the traceback and the worker's last stderr lines, for a failure report."""
        parts = [f"{self.status}: {self.message}"]
        if self.traceback_text:
            parts.append(self.traceback_text.rstrip())
        if self.stderr_tail:
            parts.append("--- worker stderr (last lines) ---\n" + self.stderr_tail.rstrip())
        return "\n".join(parts)


def resolve_target(target: str) -> Callable[[Any], Any]:
    """Import "package.module:function" (the function part may be dotted: "mod:Class.method")."""
    module_name, sep, attr_path = target.partition(":")
    if not sep or not module_name or not attr_path:
        raise ValueError(f"worker target must look like 'package.module:function', got {target!r}")
    obj: Any = importlib.import_module(module_name)
    for attr in attr_path.split("."):
        obj = getattr(obj, attr)
    if not callable(obj):
        raise TypeError(f"worker target {target!r} is not callable")
    return obj


TAIL_BYTES = 64 << 10  # what is read of a worker's log for its tail: a kernel may print gigabytes


def _tail(path: str, offset: int, lines: int = STDERR_TAIL_LINES) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(offset, f.seek(0, os.SEEK_END) - TAIL_BYTES))
            text = f.read(TAIL_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _signal_name(returncode: int | None) -> str | None:
    if returncode is None or returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


# ------------------------------------------------------------------ the child side


def _serve(fd: int) -> None:
    """Worker main loop: ("call", target, args) -> ("ok", target(*args)) | ("error", message, traceback, outcome),
    where outcome is the exception's ``outcome`` attribute (plain data a target attached), or None."""
    import faulthandler

    faulthandler.enable()  # a segfault prints the Python stack into the stderr log before the process dies
    STREAMS[:] = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)  # before any kernel's code ran
    STREAM_ATTRIBUTES[:] = [frozenset(getattr(s, "__dict__", ())) for s in STREAMS]  # (``streams_replaced``)
    conn = Connection(fd)  # a trusted worker's pickled replies only: the rest goes by ``worker.channel`` (round 46)
    try:
        _, sys_path, plain, parent = channel.receive(fd)
        sys.path[:] = list(dict.fromkeys([*sys_path, *sys.path]))
        _die_with_parent(signal.SIGKILL if plain else signal.SIGTERM, parent)
        nonce = None
        send = (lambda reply: _send_plain(fd, reply, nonce)) if plain else conn.send
        while True:
            message = channel.receive(fd)
            if message[0] != "call":
                return
            _, target, args, nonce, numbers = message
            PASSED.update(zip(numbers, channel.take_fds(fd, len(numbers), FDS_PER_MESSAGE)))
            try:
                reply: tuple = ("ok", resolve_target(target)(*args))
            except BaseException as exc:  # SystemExit and KeyboardInterrupt from a target are its errors too
                reply = ("error", told(exc), frames(exc), getattr(exc, "outcome", None) if plain_class(exc) else None)
            finally:  # no flush: the streams are unbuffered, and a flush ran kernel code after the records, through
                _close_passed()  # a redirect, a method on the stream, then one on its buffer (rounds 40 to 43)
            _drained()
            try:
                send(reply)
            except Exception as exc:  # an unpicklable result: pickling fails before anything is written
                send(("error", f"the result of {target} could not be sent back: {exc}", traceback.format_exc(), None))
    except EOFError:
        return  # the parent went away


def _drained() -> None:
    """Nothing this process queued on its GPU outlives its answer: work a finalizer launched in a request's last
    collection, after the harness's last sync, ran on while the judge timed the baseline with the kernel's process
    stopped (SIGSTOP stops no queued work) and slowed it (red-team round 60, ds02, modelled). torch's functions as the
    harness found them before any kernel was imported (:func:`hold_drain`): looked up here, after every record and
    check, a kernel's replacement ran its own code unseen (round 61, dv02). A broken context is told by the next
    request."""
    if _DRAIN and _DRAIN[0]():
        try:
            _DRAIN[1]()
        except Exception:
            pass


def hold_drain() -> None:
    """Bind :func:`_drained`'s functions, once a process: the harness's ``load``, before the kernel's import."""
    if not _DRAIN:
        import torch

        _DRAIN[:] = (torch.cuda.is_initialized, torch.cuda.synchronize)


_DRAIN: list = []


_PLAIN_ARGS = (str, int, float, bool, bytes, type(None))


def plain_class(exc: BaseException) -> bool:
    """Whether ``exc``'s class is Python's, the plugin's or a library's (:data:`_LIBRARY_MODULES`), read without
    running any code of the kernel's (its class's module through ``type``'s own descriptor: a metaclass may define
    its own)."""
    module = type.__dict__["__module__"].__get__(type(exc), type)
    return module == "builtins" or (isinstance(module, str) and module.split(".")[0] in _LIBRARY_MODULES)


#: the modules whose exception classes are told whole (torch's ``OutOfMemoryError`` says how much it asked for)
_LIBRARY_MODULES = ("pytest_solbench", "torch", "triton", "numpy")


def told(exc: BaseException) -> str:
    """``Type: message`` of an exception, told without running the kernel's code: where no record is open, the
    ``__str__`` of a kernel's exception (or of an object in a built-in one's arguments) ran unseen, and it compiled a
    library op the later items ran (red-team round 41, bn01). A kernel's class is named, its message not read."""
    name = type.__dict__["__name__"].__get__(type(exc), type)
    if plain_class(exc) and all(type(arg) in _PLAIN_ARGS for arg in BaseException.__dict__["args"].__get__(exc)):
        return f"{name}: {exc}"
    return f"{name} (an exception of the kernel's code; its message is read only inside the judge's records)"


def frames(exc: BaseException) -> str:
    """The traceback's frames, then :func:`told`: never ``traceback.format_exc``, which reads the message."""
    return "Traceback (most recent call last):\n" + "".join(
        f'  File "{path}", line {line}, in {name}\n' for path, line, name in plain_frames(exc)) + told(exc)


def plain_frames(exc: BaseException) -> list[tuple[str, int, str]]:
    """(file, line, function) of each frame of ``exc``'s traceback, read from the interpreter's own objects alone:
    ``traceback``'s formatting asks ``linecache`` for each frame's source line, and ``len()`` of an entry the kernel
    put in ``linecache.cache`` under its own file ran its code after the record had closed (red-team round 47, cf02);
    a ``__traceback__`` of the kernel's exception class is not read either."""
    tb = BaseException.__dict__["__traceback__"].__get__(exc)
    found = []
    while tb is not None and len(found) < 200:
        code = tb.tb_frame.f_code
        found.append((str.__str__(code.co_filename), int(tb.tb_lineno or 0), str.__str__(code.co_name)))
        tb = tb.tb_next
    return found


STREAMS: list[Any] = []  # in a worker: sys.stdout, stderr, __stdout__, __stderr__ as its loop began
STREAM_ATTRIBUTES: list[frozenset[str]] = []  # and the names in each one's own __dict__ then


def flush_streams(streams: Sequence[Any]) -> None:
    """Prints flushed into the log through the streams a process began with (a Ray seat's, which runs no kernel
    code). A kernel's process flushes nothing: a flush there ran the kernel's code after every record of a request
    had closed, through a stream left by ``contextlib.redirect_stdout`` (red-team round 40, bk05), a ``flush`` set on
    the stream (round 42, bq01), then one set on its buffer (round 43, bt03); its streams are unbuffered instead."""
    for stream in streams[:2]:
        stream.flush()  # Ray's stream objects hand flush on through __getattr__: no class method to call


def streams_replaced() -> str | None:
    """In a worker, which of ``sys``'s streams a kernel's code left replaced or gave a name, or None (in pytest's own
    process its capture swaps them)."""
    if not STREAMS:
        return None
    now = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    names = ("sys.stdout", "sys.stderr", "sys.__stdout__", "sys.__stderr__")
    replaced = [name for name, was, is_ in zip(names, STREAMS, now) if was is not is_]
    replaced += [f"{name}.{attr}" for name, stream, had in zip(names, STREAMS, STREAM_ATTRIBUTES)
                 for attr in sorted(set(getattr(stream, "__dict__", ())) - had)]  # a flush set on it (bq01)
    return ", ".join(replaced) or None


def worker_path() -> list[str]:
    """This process's ``sys.path`` for a worker, less the working directory (``''`` or its name). A folder pytest
    was started in may be a submission's: a ``json.py`` there, imported as a worker boots, ran in the unconfined
    judge and passed a kernel that wrote zeros (red-team round 11, m06); given back to a confined kernel's process,
    its modules were imported by kernels unread by the static rules (round 12, n04). A kernel imports from its own
    folder and from what is installed, with ``python -m pytest`` as with ``pytest``."""
    here = os.path.realpath(os.getcwd())
    return [p for p in sys.path if p and os.path.realpath(p) != here]


PASSED: dict[int, int] = {}  # in a worker: the descriptors passed with the request being served, by their parent's number


def passed_fd(number: int) -> int:
    """A descriptor the parent passed with the request being served (``_Worker.call``'s ``fds``), found by the
    number it has in the parent (which the request names); it is closed once that request is answered."""
    try:
        return PASSED[number]
    except KeyError:
        raise ValueError(f"descriptor {number} of the parent's was not passed with this request") from None


def _close_passed() -> None:
    """The request's descriptors closed: what the target mapped stays mapped, nothing else of them stays open."""
    for fd in PASSED.values():
        try:
            channel.close(fd)  # bound before any kernel's code: os.close replaced ran after the records (round 45)
        except OSError:  # the target closed it already
            pass
    PASSED.clear()


@contextlib.contextmanager
def _socket_of(conn: Connection) -> Iterator[socket.socket]:
    """The connection's socket, as a socket (``sendmsg``, ``recvmsg``) for a moment, left open and blocking."""
    sock = socket.socket(fileno=conn.fileno())
    try:
        sock.settimeout(None)
        yield sock
    finally:
        sock.detach()


def _pass_fds(conn: Connection, fds: Sequence[int]) -> None:
    """Descriptors after a request's frame (``SCM_RIGHTS``), at most ``FDS_PER_MESSAGE`` on each message of one
    byte: the frame says how many come, so the other side reads exactly these bytes and no frame moves."""
    if not fds:
        return
    with _socket_of(conn) as sock:
        for start in range(0, len(fds), FDS_PER_MESSAGE):
            socket.send_fds(sock, [b"F"], list(fds[start : start + FDS_PER_MESSAGE]))


def _die_with_parent(signum: int, parent: int) -> None:
    """Linux: a signal when the parent goes. A kernel's process gets SIGKILL: none outlives the judge that ran it
    (``guard.confine`` sets it again after a change of user, which clears it). A trusted worker (a judge) gets
    SIGTERM and closes its pools first, so its kernels' processes, wherever they went, die with it: a judge that
    outlived a killed pytest kept them running (red-team round 7)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import ctypes.util

        if signum == signal.SIGTERM:
            # What closing pools imports, imported now: the signal may come in the middle of a lazy import of
            # these (a judge waiting on its kernel reads /proc), which the handler could then not use.
            from pytest_solbench.guard import confine, integrity, reap  # noqa: F401

            signal.signal(signal.SIGTERM, _parent_died)
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        libc.prctl(ctypes.c_int(PR_SET_PDEATHSIG), ctypes.c_ulong(signum), ctypes.c_ulong(0), ctypes.c_ulong(0),
                   ctypes.c_ulong(0))  # fmt: skip
        if os.getppid() != parent:  # the parent went before the line above (not "is 1": pytest may be pid 1)
            _parent_died()


def _parent_died(*_args: object) -> None:
    try:
        close_all()
    finally:
        os._exit(1)


def _send_plain(fd: int, reply: tuple, nonce: str | None) -> None:
    body = {"ok": reply[1]} if reply[0] == "ok" else {"error": reply[1], "traceback": reply[2]}
    channel.send(fd, plain_json({**body, "nonce": nonce}).encode())


def plain_json(value: Any) -> str:
    """``value`` (None, bools, numbers, strings, lists, tuples and dicts of them) as JSON, by this function and the
    built-in types' own methods alone: ``json.dumps`` looks ``JSONEncoder.encode`` up as it runs, and a kernel that
    replaced it (``functools.update_wrapper``, no assignment) took the library ops and its tripwire's finding out of
    every reply (red-team round 42, bq03, bq05). Anything else, or a number that is not finite, is a ValueError."""
    if value is None or value is True or value is False:
        return "null" if value is None else "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if not float.__sub__(value, value) == 0.0:  # nan or an infinity
            raise ValueError(f"a reply holds {float.__repr__(value)}, which JSON has no word for")
        return float.__repr__(value)
    if isinstance(value, str):
        return _ESCAPE(value)
    if isinstance(value, (list, tuple)):
        items = list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value)
        return "[" + ",".join(plain_json(item) for item in items) + "]"
    if isinstance(value, dict):
        pairs = dict.items(value)
        if not all(isinstance(key, str) for key, _ in pairs):
            raise ValueError("a reply's keys are strings")
        return "{" + ",".join(f"{_ESCAPE(key)}:{plain_json(item)}" for key, item in pairs) + "}"
    raise ValueError(f"a reply holds a {type.__dict__['__name__'].__get__(type(value), type)}, not plain data")


_ESCAPE = json.encoder.encode_basestring_ascii  # C, taken as this module is imported, before any kernel's code


def _plain_reply(data: bytes, nonce: str | None = None) -> tuple:
    """A plain worker's reply as ("ok", value) or ("error", message, traceback); ValueError when it is anything
    but JSON of exactly that shape (a pickle, extra keys, a wrong type) carrying the request's ``nonce``."""
    body = json.loads(data.decode("utf-8"))
    if not isinstance(body, dict) or body.pop("nonce", None) != nonce:
        raise ValueError(f"a reply must echo its request's nonce, got {str(body)[:200]}")
    if set(body) == {"ok"}:
        return ("ok", body["ok"])
    plain_error = set(body) == {"error", "traceback"}
    if plain_error and all(isinstance(v, str) for v in body.values()):
        return ("error", body["error"], body["traceback"])
    raise ValueError(f"a reply must be {{'ok': value}} or {{'error', 'traceback'}}, got {str(body)[:200]}")


def unreadable(exc: Exception) -> str:
    """Why a reply could not be read, for a malformed-reply verdict. Not only a ValueError: 200,000 ``[`` make the
    decoder raise RecursionError (red-team round 8, j04), which must not pass for the judge's own crash."""
    text = str(exc)[:300]
    return text if isinstance(exc, ValueError) else f"{type(exc).__name__}: {text}"


def is_stopped(pid: int) -> bool:
    """Whether the process is stopped by a signal (Linux; False where /proc cannot say)."""
    from pytest_solbench.guard.integrity import proc_stat

    fields = proc_stat(pid)
    return fields is not None and fields[0] == "T"  # not "t": a debugger's stop is no attack


# ------------------------------------------------------------------ the parent side


class _Worker:
    """One child interpreter, its connection and its stderr log."""

    def __init__(self, env: dict[str, str], initializer: str | None, plain: bool = False) -> None:
        self.plain = plain
        self.uid: int | None = None  # a confined kernel's process's own user (guard.confine own-user), chosen here
        self._marks_path: str | None = None  # a judge's: the marks of its kernels' processes (``_kill_marks_of``)
        if plain and env.get("SOLBENCH_CONFINE") == "1" and os.name == "posix" and os.geteuid() == 0:
            from pytest_solbench.guard.confine import OWN_UID_ENV, new_user

            self.uid = new_user()
            env = {**env, OWN_UID_ENV: str(self.uid)}
            _register(f"user {self.uid}")
        elif not plain and sys.platform.startswith("linux") and os.geteuid() == 0:
            _sweep_marks()
            marks, self._marks_path = tempfile.mkstemp(prefix=f"{MARKS_PREFIX}{os.getpid()}-")
            os.close(marks)
            env = {**env, MARKS_ENV: self._marks_path}
        fd, self.log_path = tempfile.mkstemp(prefix="solbench-worker-", suffix=".log")
        ours, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT.format(root=_PACKAGE_ROOT), str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=fd,  # prints go to the log too: they must not corrupt anything, and help explain a crash
                stderr=fd,
                pass_fds=(theirs.fileno(),),
                env=env,
                start_new_session=True,  # a Ctrl-C at the terminal reaches the parent, which then closes us
            )
        except BaseException:
            ours.close()
            os.close(fd)
            os.unlink(self.log_path)
            raise
        finally:
            theirs.close()
        self._log_fd: int | None = fd
        if sys.platform.startswith("linux"):  # gone from /tmp at once, freed with the last process holding it: a
            os.unlink(self.log_path)  # judge that dies leaves no log behind (a kernel may write 1 GiB there; round 7)
            self.log_path = f"/proc/self/fd/{fd}"
        else:
            os.close(fd)
            self._log_fd = None
        self.pid = self.proc.pid
        self.mark: Any = None  # what tells its processes (``guard.reap.Mark``), read once its initializer confined it
        self._reaped = False  # every process with that mark killed (before the mark, no kernel code ran: none to kill)
        self._ipc_fd: int | None = None  # holds the kernel's IPC namespace, so its identity is not reused meanwhile
        self.last_reply_ms = 0.0  # the last call's request sent -> reply arrived, before anything the judge does after
        self.conn = Connection(ours.detach())
        self.conn.send(("setup", worker_path(), plain, os.getpid()))
        self.pending_init = initializer
        self.nonce: str | None = None
        if initializer is not None:  # starts now, so CUDA comes up while the parent does other work
            self._send(initializer, ())

    def _send(self, target: str, args: tuple, fds: Sequence[int] = ()) -> None:
        """The request, then the descriptors it passes (``_pass_fds``), named in it by their numbers here."""
        import secrets

        self.nonce = secrets.token_hex(8)
        self.conn.send(("call", target, args, self.nonce, list(fds)))
        _pass_fds(self.conn, fds)

    def _log_size(self) -> int:
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def call(self, target: str, args: tuple, timeout_s: float, on_reply: Callable[[], Any] | None = None,
             fds: Sequence[int] = ()) -> Any:  # fmt: skip
        """Run ``target(*args)``; raises WorkerError. After a TIMEOUT or a death the worker is unusable.
        ``on_reply`` runs as soon as the reply is in (or the worker is gone), before the scan for strays, which a
        kernel can make as long as it likes: the judge reads back its shared tensors there (red-team round 7b).
        ``fds`` go with the request (the judge's sealed memfds, ``worker.shm``): over there, ``passed_fd``."""
        offset = self._log_size()
        started = time.perf_counter()
        try:
            self._send(target, args, fds)
        except OSError:  # it died between calls
            return self._died(target, offset)
        try:
            value = self._reply(target, timeout_s, offset, started)
        except BaseException:
            if on_reply is not None:
                on_reply()
            self._kill_strays()
            raise
        if on_reply is not None:
            on_reply()
        found = self._kill_strays()  # after the reply's time was taken: the scan is the judge's cost, not the kernel's
        if found:
            raise WorkerError(RUNTIME_ERROR, f"the kernel's process left {len(found)} process(es) of its own out of "
                              f"its tree (pid {', '.join(map(str, found[:5]))}: a sibling it cloned, say); killed",
                              rule="threads", worker_pid=self.pid)  # fmt: skip
        return value

    def _kill_strays(self) -> list[int]:
        """A confined kernel's processes that left its tree during the call (a sibling cloned with
        ``CLONE_PARENT``) die now, not at its retirement: nothing of it runs while another kernel is timed."""
        if not self.mark:
            return []
        from pytest_solbench.guard.reap import reap, strays

        found = strays(self.mark, self.pid)
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        reap(found)  # a CLONE_PARENT sibling is the judge's child: no zombie of it stays
        return found

    def finish_init(self, timeout_s: float) -> None:
        if self.pending_init is not None:
            target, self.pending_init = self.pending_init, None
            self._reply(f"initializer {target}", timeout_s, 0)
            if self.uid is not None:  # confined now (its initializer), and no kernel code has run in it yet
                self._take_mark()

    def _take_mark(self) -> None:
        from pytest_solbench.guard import reap

        try:  # opened first and held: the namespace, so its identity, lives as long as this object, not reused
            self._ipc_fd = os.open(f"/proc/{self.pid}/ns/ipc", os.O_RDONLY)
        except OSError:
            self._ipc_fd = None
        self.mark = reap.mark_of(self.pid, self.uid)
        if self.mark.ipc is None and self._ipc_fd is not None:
            os.close(self._ipc_fd)
            self._ipc_fd = None
        if self.mark.ipc is not None:
            _register(f"ipc {self.mark.ipc[0]} {self.mark.ipc[1]}")

    def _reply(self, what: str, timeout_s: float, offset: int, started: float | None = None) -> Any:
        if not self._wait(timeout_s):
            if is_stopped(self.pid):
                self.kill()
                raise WorkerError(TIMEOUT, f"{what} did not finish: the worker was stopped by a signal (SIGSTOP "
                                  "from a process of the same user, such as a kernel it ran) and was killed",
                                  stderr_tail=_tail(self.log_path, offset), signal_name="SIGSTOP",
                                  worker_pid=self.pid)  # fmt: skip
            self.kill()
            raise WorkerError(
                TIMEOUT,
                f"{what} did not finish within {timeout_s:g} s; the worker was killed",
                stderr_tail=_tail(self.log_path, offset),
                signal_name="SIGKILL",
                worker_pid=self.pid,
            )
        try:
            reply = self.conn.recv_bytes(MAX_PLAIN_REPLY_BYTES) if self.plain else self.conn.recv()
            if started is not None:
                self.last_reply_ms = (time.perf_counter() - started) * 1e3
        except OSError as exc:
            if self.plain and "too long" in str(exc):
                return self._malformed(what, offset, f"a reply over {MAX_PLAIN_REPLY_BYTES} bytes")
            return self._died(what, offset)
        except Exception:  # EOF, reset, or a reply cut short: the process is gone
            return self._died(what, offset)
        if self.plain:
            try:
                reply = _plain_reply(reply, self.nonce)
            except Exception as exc:  # noqa: BLE001  any frame it cannot decode is the kernel's doing (round 8, j04)
                return self._malformed(what, offset, unreadable(exc))
        if reply[0] == "ok":
            return reply[1]
        raise WorkerError(
            RUNTIME_ERROR,
            reply[1],
            outcome=reply[3] if len(reply) > 3 else None,  # a plain (kernel) reply never carries one
            traceback_text=reply[2],
            stderr_tail=_tail(self.log_path, offset),
            worker_pid=self.pid,
        )

    def _wait(self, timeout_s: float) -> bool:
        """Whether a reply came within ``timeout_s``; gives up early on a worker stopped for ``STOPPED_GRACE_S``."""
        deadline = time.monotonic() + timeout_s
        stopped_since = None
        while True:
            left = deadline - time.monotonic()
            if self.conn.poll(max(0.0, min(left, 1.0))):
                return True
            if left <= 1.0:
                return False
            if not is_stopped(self.pid):
                stopped_since = None
            elif stopped_since is None:
                stopped_since = time.monotonic()
            elif time.monotonic() - stopped_since >= STOPPED_GRACE_S:
                return False

    def _malformed(self, what: str, offset: int, why: str) -> Any:
        self.kill()  # what else it may write is not worth reading
        raise WorkerError(MALFORMED, f"the reply to {what} is not plain JSON of the fixed schema: {why}", malformed=True,
                          stderr_tail=_tail(self.log_path, offset), worker_pid=self.pid)  # fmt: skip

    def _died(self, what: str, offset: int) -> Any:
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        code = self.proc.returncode
        name = _signal_name(code)
        how = f"with {name}" if name else f"with exit code {code}"
        raise WorkerError(  # the EOF that told us is noise; the exit status is the news
            RUNTIME_ERROR,
            f"worker died {how} while running {what}",
            stderr_tail=_tail(self.log_path, offset),
            exitcode=code,
            signal_name=name,
            worker_pid=self.pid,
        ) from None

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None and not self.conn.closed

    def kill(self) -> None:
        try:
            self._kill()
        finally:
            if self._marks_path is not None and self.proc.returncode != 0:  # a judge that did not close its pools
                _kill_marks_of(self._marks_path)

    def _kill(self) -> None:
        if self.mark and not self._reaped:  # everything with the kernel's mark, wherever it went, even after its death
            from pytest_solbench.guard import reap

            self._reaped = not reap.kill(self.mark, keep=[self.pid])  # none is left, none can come back: done
        if self.proc.poll() is None:
            if self.plain:  # its process group (start_new_session): whatever the kernel started goes too
                for pid in _descendants(self.pid):  # and what left the group (setsid), reparented to it (subreaper)
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except OSError:
                    pass
            self.proc.kill()
            self.proc.wait()

    def close(self, grace_s: float = 2.0) -> None:
        if self.plain:
            self.kill()  # a kernel's process and all it started, at once: nothing of it lives on
        if self.proc.poll() is None and not self.conn.closed:
            try:
                self.conn.send(("exit",))
                self.proc.wait(timeout=grace_s)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        if not self.conn.closed:
            self.conn.close()
        if self._ipc_fd is not None:
            os.close(self._ipc_fd)
            self._ipc_fd = None
        if self._log_fd is not None:  # unlinked at the start: closing it frees it
            os.close(self._log_fd)
            self._log_fd = None
        else:
            _unlink(self.log_path)
        if self._marks_path is not None:
            _unlink(self._marks_path)
            self._marks_path = None


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _register(mark: str) -> None:
    """In a judge: note the mark of a kernel's processes ("user UID", drawn before the process starts; "ipc DEV INO",
    its namespace, where it runs as root) in the file its own parent reads if the judge dies without closing its pools
    (``_kill_marks_of``)."""
    path = os.environ.get(MARKS_ENV)
    if path:
        with open(path, "a") as marks:
            marks.write(f"{mark}\n")


def _sweep_marks() -> None:
    """The marks files of controllers no longer alive (killed outright, by a root kernel say, before they could act
    on their judges' files): their kernels' processes are killed now, before this one starts a judge (round 7b, i04)."""
    from pytest_solbench.worker.shm import _alive

    folder = tempfile.gettempdir()
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        pid = name[len(MARKS_PREFIX):].split("-", 1)[0] if name.startswith(MARKS_PREFIX) else ""
        if pid.isdigit() and not _alive(int(pid)):
            path = os.path.join(folder, name)
            _kill_marks_of(path)
            _unlink(path)


def _kill_marks_of(path: str) -> None:
    """Every process with a mark a judge noted, once that judge is gone without closing its pools (killed, or
    crashed: a kernel that truncated a file the judge had mapped made it die of SIGBUS, red-team round 7; a root
    kernel can signal its judge): what its kernels forked (their parent-death signal does not pass to a child) would
    run on to the end of the session, and into the next one. By namespace only the orphans in it (``reap.orphans``):
    a namespace's number is reused as soon as it ends, perhaps by a live kernel of another judge."""
    from pytest_solbench.guard import reap

    try:
        with open(path) as marks:
            lines = [line.split() for line in marks]
    except OSError:
        return
    for words in lines:
        if len(words) == 2 and words[0] == "user" and words[1].isdigit():
            reap.kill(reap.Mark(uid=int(words[1])))
        elif len(words) == 3 and words[0] == "ipc" and words[1].isdigit() and words[2].isdigit():
            reap.kill_orphans((int(words[1]), int(words[2])))


def _descendants(root: int) -> list[int]:
    """Every process below ``root`` (through /proc; none where there is no /proc)."""
    from pytest_solbench.guard.integrity import proc_stat

    parents: dict[int, list[int]] = {}
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return []
    for pid in pids:
        fields = proc_stat(pid)
        if fields is not None:
            parents.setdefault(int(fields[1]), []).append(pid)
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


_OPEN: weakref.WeakSet = weakref.WeakSet()  # the pools of this process not yet garbage (``close_all``)


def _shutdown(workers: set[_Worker], folders: tuple[str, ...] = (), grace_s: float = 0.5) -> None:
    import shutil

    for worker in list(workers):
        worker.close(grace_s=grace_s)
    workers.clear()
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def close_all() -> None:
    """Close every pool this process still has open (their workers and all those started): for a process about to
    be killed from outside (a Ray actor), whose finalizers would not run."""
    for pool in list(_OPEN):
        pool.close()


class WorkerPool:
    """Spawned worker interpreters, reused across calls; a worker that crashed, hung or failed its health
    check is replaced at once (eagerly), so the next interpreter boots while the parent reports the failure.

    ``health_check`` and ``initializer`` are "module:function" targets called with no arguments: the health
    check runs in a worker whose target raised, and a raise or a False return retires that worker; the
    initializer runs first thing in every new worker (e.g. CUDA start-up), overlapping the parent's work.
    ``spent``: called on each result; True retires the worker that returned it (the judge's, holding GPU memory).
    """

    def __init__(
        self,
        size: int = 1,
        *,
        start_method: str = "spawn",
        env: dict[str, str | None] | None = None,
        health_check: str | None = None,
        initializer: str | None = None,
        init_timeout_s: float = 300.0,
        health_timeout_s: float = 60.0,
        plain: bool = False,
        shared_folders: bool = False,
        exit_grace_s: float = 0.5,
        spent: Callable[[Any], bool] | None = None,
    ) -> None:
        if start_method != "spawn":
            raise ValueError(
                f"start_method {start_method!r}: only 'spawn' (a fresh interpreter) is supported; "
                "CUDA does not survive fork"
            )
        if size < 1:
            raise ValueError(f"a worker pool needs at least one worker, got size={size}")
        self.size, self.health_check, self.initializer = size, health_check, initializer
        self.init_timeout_s, self.health_timeout_s, self.plain = init_timeout_s, health_timeout_s, plain
        self.spent = spent
        self._env = dict(os.environ)
        for key, value in (env or {}).items():
            if value is None:
                self._env.pop(key, None)
            else:
                self._env[key] = value
        self._env["PYTHONUNBUFFERED"] = "1"  # prints reach the log as written: the loop flushes nothing (``_serve``)
        # Folders of this pool's own for the tensors shared with its workers (``shm.own_folders``), which confinement
        # keeps reachable in them while it hides the rest of /dev/shm.
        self.shared_dirs: tuple[str, ...] = ()
        if shared_folders:
            from pytest_solbench.guard.confine import SHARED_ENV
            from pytest_solbench.worker.shm import own_folders

            self.shared_dirs = own_folders()
            self._env[SHARED_ENV] = os.pathsep.join(self.shared_dirs)
        self._workers: set[_Worker] = set()
        self.last_reply_ms = 0.0  # the last call that returned: request sent -> reply arrived (``_Worker.call``)
        self._idle: list[_Worker] = []
        self._cond = threading.Condition()
        self._closed = False
        # How long a worker may take to exit when the pool closes before it is killed: the judge's retires its
        # kernels' processes then (``guard.reap``), and one killed halfway would leave their escapees alive.
        self._finalizer = weakref.finalize(self, _shutdown, self._workers, self.shared_dirs, exit_grace_s)
        _OPEN.add(self)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _spawn(self) -> _Worker:
        worker = _Worker(self._env, self.initializer, self.plain)
        self._workers.add(worker)
        return worker

    def start(self) -> None:
        """Start every worker now (and its initializer), instead of at first use."""
        with self._cond:
            while len(self._workers) < self.size and not self._closed:
                self._idle.append(self._spawn())

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the worker pool is closed")
                if self._idle:
                    return self._idle.pop()
                if len(self._workers) < self.size:
                    return self._spawn()
                self._cond.wait()

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            if worker in self._workers:
                self._idle.append(worker)
            self._cond.notify()

    def _replace(self, worker: _Worker) -> None:
        worker.close(grace_s=0.5)
        with self._cond:
            self._workers.discard(worker)
            if not self._closed:
                self._idle.append(self._spawn())
            self._cond.notify()

    def call(self, target: str, payload: Any, timeout_s: float, on_reply: Callable[[], Any] | None = None,
             fds: Sequence[int] = ()) -> Any:  # fmt: skip
        """Run ``target(payload)`` in a worker and return its result; raise WorkerError when it does not return.
        ``on_reply``, ``fds``: see ``_Worker.call``."""
        worker = self._acquire()
        try:
            worker.finish_init(self.init_timeout_s)
        except BaseException:  # a worker whose initializer failed is not trusted with the call
            self._replace(worker)
            raise
        try:
            result = worker.call(target, (payload,), timeout_s, on_reply, fds)
        except WorkerError:
            if not worker.alive or not self._healthy(worker):
                self._replace(worker)
            else:
                self._release(worker)
            raise
        except BaseException:  # e.g. an unpicklable payload, or Ctrl-C while waiting: do not reuse the worker
            self._replace(worker)
            raise
        self.last_reply_ms = worker.last_reply_ms
        if self.spent is not None and self.spent(result):
            self._replace(worker)
        else:
            self._release(worker)
        return result

    def _healthy(self, worker: _Worker) -> bool:
        if self.health_check is None:
            return True
        try:
            return worker.call(self.health_check, (), self.health_timeout_s) is not False
        except WorkerError:
            return False

    def worker_pids(self) -> list[int]:
        with self._cond:
            return sorted(worker.pid for worker in self._workers)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._finalizer()


class TenantPools:
    """One ``WorkerPool`` per tenant, so that a worker never serves two tenants (two kernels): whatever a kernel
    patches at import dies with its own workers. ``tenant_of(payload)`` names the tenant of a call; payloads
    without one go to ``"harness"``. At most ``max_live`` pools stay open; the least recently used one (never
    ``keep``) is closed first. A spare pool boots in the background, so a new tenant rarely waits for a start
    (6.5 s with torch and CUDA on an H100)."""

    def __init__(self, tenant_of: Callable[[Any], str], max_live: int = 3, keep: str = "reference", spare: bool = True,
                 **pool_kwargs: Any):  # fmt: skip
        self.tenant_of, self.max_live, self.keep, self.pool_kwargs = tenant_of, max(2, max_live), keep, pool_kwargs
        self.spare = spare  # boot the next tenant's worker in the background (its initializer included)
        self._pools: dict[str, WorkerPool] = {}
        self._spare: WorkerPool | None = None

    def __enter__(self) -> TenantPools:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def pool(self, tenant: str) -> WorkerPool:
        pool = self._pools.pop(tenant, None)
        if pool is None:
            # A spare, booted while the previous tenant ran, has served no one: it is as clean as a new one.
            pool, self._spare = self._spare or WorkerPool(**self.pool_kwargs), None
            if self.spare:
                self._spare = WorkerPool(**self.pool_kwargs)
                self._spare.start()
            while len(self._pools) >= self.max_live - 1:
                oldest = next((t for t in self._pools if t != self.keep), None)
                if oldest is None:
                    break
                self._pools.pop(oldest).close()
        self._pools[tenant] = pool  # most recently used last
        return pool

    def call(self, target: str, payload: Any, timeout_s: float) -> Any:
        tenant = self.tenant_of(payload) if payload is not None else "harness"
        return self.pool(tenant or "harness").call(target, payload, timeout_s)

    def retire(self, tenant: str) -> None:
        """Close a tenant's workers (a broken CUDA context, a reply off the schema); its next call starts afresh."""
        pool = self._pools.pop(tenant, None)
        if pool is not None:
            pool.close()

    def worker_pids(self) -> dict[str, list[int]]:
        return {tenant: pool.worker_pids() for tenant, pool in self._pools.items()}

    def close(self) -> None:
        for pool in [*self._pools.values(), *([self._spare] if self._spare else [])]:
            pool.close()
        self._pools.clear()
        self._spare = None


class InProcessRunner:
    """The same ``call`` interface without a process (``--solbench-isolate none``): no crash protection, and a
    timeout can only be reported after the call returns; exceptions still become WorkerError. There is no
    worker to replace, so a failed health check only says, in the error, that later calls may fail too."""

    def __init__(self, health_check: str | None = None) -> None:
        self.health_check = health_check

    def __enter__(self) -> InProcessRunner:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def call(self, target: str, payload: Any, timeout_s: float) -> Any:
        start = time.monotonic()
        try:
            result = resolve_target(target)(payload)
        except (Exception, SystemExit) as exc:
            message, trace = f"{type(exc).__name__}: {exc}", traceback.format_exc()
            if not self._healthy():
                message += " (and the health check failed: this process's GPU state is broken for later calls)"
            raise WorkerError(RUNTIME_ERROR, message, outcome=getattr(exc, "outcome", None),
                              traceback_text=trace) from exc
        elapsed = time.monotonic() - start
        if elapsed > timeout_s:
            raise WorkerError(
                TIMEOUT, f"{target} took {elapsed:.1f} s, over the {timeout_s:g} s limit (in-process runs cannot be "
                "interrupted; use a worker pool to stop a hang)"
            )
        return result

    def _healthy(self) -> bool:
        if self.health_check is None:
            return True
        try:
            return resolve_target(self.health_check)() is not False
        except Exception:
            return False

    def close(self) -> None:
        pass

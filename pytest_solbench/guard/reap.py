"""Finding and killing a confined kernel's processes wherever they went: strays after each call, all at retirement.

A confined kernel's processes carry a :class:`Mark` none of them can shed:

- its own user (``own-user`` in force, ``guard.confine``): no process of it can change its user id;
- where that is not in force (a root kernel: a Python under a folder closed to other users), its IPC namespace
  (``ipc``): each confined process unshares one of its own, and without capabilities none of its processes can
  leave it; nor through a new user namespace, which ``no-userns`` refuses them (``guard.seccomp``; round 6, g08).

:func:`strays`: the processes with the mark that do not descend from the kernel's process. One pass over /proc for
candidates, then each confirmed by a live walk up its parents: the kernel's process is a child subreaper
(``confine.subreaper``), so at every instant a true descendant's chain of parents reaches it (an ancestor that
exits hands its children to it), while a sibling cloned with ``CLONE_PARENT`` reaches the judge and init. A parent
that vanishes mid-walk, or whose pid now names a younger process, starts the walk again. A child born during the
scan is no candidate (red-team round 6, g05: a scan in two passes called a child born between them a stray).

:func:`kill`: every process with the mark, at the kernel's retirement; :func:`reap` then waits for those of them that
were the judge's own children (``CLONE_PARENT`` siblings), so no zombie of theirs lasts as long as the judge.

- By user (:func:`kill_user`): a helper forked from the judge (root) takes credentials that reach exactly that
  user's processes while none of them can signal it: real and saved user a fresh one ``V`` (``new_user``),
  effective the kernel's ``U``, no groups. Linux lets a process signal another when the sender's real or effective
  user is the target's real or saved user: ``kill(-1)`` then reaches U's processes (and V's: none), and theirs
  cannot reach the helper. (Round 6, g01 and g03: a helper that ran as ``U`` was stopped by the kernel's processes
  before its kill; their escapees outlived pytest, or the judge waited on the stopped helper and the next kernel
  timed out.) Until the switch the helper is root, which they cannot signal either; its time is bounded.
- By namespace (:func:`kill_namespace`): the judge (root) stops every process in it, again until a pass finds no
  new one (a stopped process forks no more), then kills them all; repeated until none is left.

All of /proc is read through a :class:`Proc`, so tests drive the walk with a fake one.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Callable, Iterable

REWALKS = 64  # walks of one candidate whose ancestors keep vanishing, before it is taken for a stray
KILL_ROUNDS = 3  # helpers (or namespace sweeps) run before survivors are reported
KILL_PASSES = 3  # kill(-1) calls of one helper, until ESRCH
HELPER_TIMEOUT_S = 5.0
DEATH_WAIT_S = 0.5  # how long processes just killed may take to leave the process table before they count as alive
STOP_PASSES = 100  # passes that stop a namespace's processes, until one finds no new process
REAP_TIMEOUT_S = 2.0  # waiting for killed children of the judge, in all


@dataclass(frozen=True)
class Mark:
    """What tells a kernel's processes: its own user, or else its IPC namespace; neither where confinement gave
    it none (then nothing is looked for)."""

    uid: int | None = None
    ipc: tuple[int, int] | None = None  # (device, inode) of the namespace, as ``os.stat`` of /proc/<pid>/ns/ipc

    def __bool__(self) -> bool:
        return self.uid is not None or self.ipc is not None


@dataclass(frozen=True)
class Node:
    """One process as its /proc/<pid>/stat shows it."""

    state: str  # "R", "S", "T", "Z", ...
    parent: int
    start_ticks: int  # since boot, in clock ticks: a pid reused later names a younger process


class Proc:
    """What the scan reads of /proc; each method answers None (or nothing) for a process that is gone."""

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in os.listdir("/proc") if p.isdigit()]
        except OSError:
            return []

    def node(self, pid: int) -> Node | None:
        from pytest_solbench.guard.integrity import proc_stat

        fields = proc_stat(pid)
        if fields is None or len(fields) < 20:
            return None
        return Node(fields[0], int(fields[1]), int(fields[19]))

    def uids(self, pid: int) -> frozenset[int]:
        """Real, effective, saved and file-system user ids."""
        try:
            with open(f"/proc/{pid}/status", "rb") as handle:
                for line in handle:
                    if line.startswith(b"Uid:"):
                        return frozenset(int(x) for x in line.split()[1:])
        except (OSError, ValueError):
            pass
        return frozenset()

    def ipc(self, pid: int) -> tuple[int, int] | None:
        try:
            found = os.stat(f"/proc/{pid}/ns/ipc")
        except OSError:  # gone, a zombie (its namespaces went with it), or no /proc
            return None
        return (found.st_dev, found.st_ino)


def mark_of(pid: int, uid: int | None, proc: Proc | None = None) -> Mark:
    """The mark of a confined kernel's process ``pid``, read once it has confined itself: its own user ``uid`` where
    it runs as that user; else its IPC namespace where it is not this process's; else none."""
    proc = proc or Proc()
    if uid is not None and uid in proc.uids(pid):
        return Mark(uid=uid)
    theirs, mine = proc.ipc(pid), proc.ipc(os.getpid())
    return Mark(ipc=theirs) if theirs is not None and theirs != mine else Mark()


def _members(mark: Mark, proc: Proc, pids: Iterable[int]) -> list[int]:
    if mark.uid is not None:
        return [pid for pid in pids if mark.uid in proc.uids(pid)]
    if mark.ipc is not None:
        return [pid for pid in pids if proc.ipc(pid) == mark.ipc]
    return []


def strays(mark: Mark, root: int, proc: Proc | None = None) -> list[int]:
    """The live processes with ``mark`` that do not descend from ``root`` (the kernel's process): one cloned as a
    sibling (``CLONE_PARENT``) or otherwise out of its tree, which no call should leave."""
    proc = proc or Proc()
    found = [pid for pid in _members(mark, proc, proc.pids()) if pid != root and descends(pid, root, proc) is False]
    return sorted(_members(mark, proc, found))  # still marked: not a pid that ended and was reused meanwhile


def descends(pid: int, root: int, proc: Proc) -> bool | None:
    """Whether live process ``pid`` descends from ``root`` (a child subreaper), by a walk up its parents; None when
    ``pid`` is gone or a zombie (nothing of it runs)."""
    for _ in range(REWALKS):
        node = proc.node(pid)
        if node is None or node.state in "ZX":
            return None
        seen = {pid}
        while True:
            if node.parent == root:
                return True
            if node.parent <= 1:
                return False  # init (or no parent in this PID namespace): out of the tree
            up = proc.node(node.parent)
            if up is None or up.start_ticks > node.start_ticks or node.parent in seen:
                break  # the parent went (its children are reparented meanwhile) or its pid was reused: walk again
            seen.add(node.parent)
            node = up
    return False  # ancestors that keep vanishing: no honest tree churns so; the kill at retirement ends it anyway


def kill(mark: Mark, proc: Proc | None = None, keep: Iterable[int] = ()) -> list[int]:
    """SIGKILL every process with ``mark``, wherever it went; the survivors (none, unless something is wrong).
    Those that were this process's children (siblings cloned with ``CLONE_PARENT``) are waited for after, all but
    ``keep`` (the kernel's process: its ``Popen`` waits for it). Root only: a no-op (nothing found) otherwise."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or not mark:
        return []
    proc, keep = proc or Proc(), set(keep)
    children = [pid for pid in _members(mark, proc, proc.pids()) if pid not in keep and _is_child(pid, proc)]
    if mark.uid is not None:
        left = kill_user(mark.uid, proc)
    else:
        assert mark.ipc is not None
        left = kill_namespace(mark.ipc, proc)
    reap(children, proc)
    return left


def reap(pids: Iterable[int], proc: Proc | None = None, timeout_s: float = REAP_TIMEOUT_S) -> None:
    """Wait for those of ``pids`` that are this process's children, once killed: a sibling a kernel's process cloned
    with ``CLONE_PARENT`` is the judge's child, and a zombie never waited for holds its pid until the judge exits.
    Bounded by ``timeout_s`` in all; a pid that is not a child of this process is left alone."""
    proc = proc or Proc()
    deadline = time.monotonic() + timeout_s
    for pid in [pid for pid in pids if _is_child(pid, proc)]:
        while True:
            try:
                if os.waitpid(pid, os.WNOHANG) != (0, 0):
                    break
            except ChildProcessError:  # waited for already (or never ours)
                break
            if time.monotonic() > deadline:
                return
            time.sleep(0.002)


def _is_child(pid: int, proc: Proc) -> bool:
    node = proc.node(pid)
    return node is not None and node.parent == os.getpid()


def kill_user(uid: int, proc: Proc | None = None) -> list[int]:
    """SIGKILL every process of ``uid`` (a kernel's own user) through helpers none of them can signal (module
    docstring); the live survivors. Root on Linux only."""
    from pytest_solbench.guard.confine import OWN_UID_BASE

    if not sys.platform.startswith("linux") or os.geteuid() != 0 or uid < OWN_UID_BASE:
        return []
    left: list[int] = []
    for _ in range(KILL_ROUNDS):
        _helper(uid)
        left = _dying(Mark(uid=uid), proc)
        if not left:
            return []
    return left


def _dying(mark: Mark, proc: Proc, wait_s: float = DEATH_WAIT_S) -> list[int]:
    """``alive(mark)``, looked at again for up to ``wait_s``: a process SIGKILLed a moment ago is still running its
    exit on a loaded machine (a test saw one survive the helpers under CI's load, session 19)."""
    deadline = time.monotonic() + wait_s
    left = alive(mark, proc)
    while left and time.monotonic() < deadline:
        time.sleep(0.005)
        left = alive(mark, proc)
    return left


def _helper(uid: int) -> None:
    """Fork a helper that is root until it takes (V, U, V) and then sends ``kill(-1)`` until none is left (ESRCH),
    at most ``KILL_PASSES`` times (a zombie of U counts as signalled until it is reaped); waited for, at most
    ``HELPER_TIMEOUT_S``. A fork, not an exec: nothing runs in it but these system calls, so it needs a few
    microseconds of CPU where the kernel's processes may spin on every core."""
    import warnings

    from pytest_solbench.guard.confine import new_user

    helper = new_user()
    with warnings.catch_warnings():  # Python 3.12+ warns of fork() in a threaded process: the child execs nothing
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        code = 1
        try:
            try:
                os.setpriority(os.PRIO_PROCESS, 0, -20)  # ahead of the kernel's processes, where allowed
            except OSError:
                pass
            os.setgroups([])
            os.setresgid(helper, helper, helper)
            os.setresuid(helper, uid, helper)
            for _ in range(KILL_PASSES):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    code = 0
                    break
                time.sleep(0.005)
        finally:
            os._exit(code)  # never back into the caller's code
    deadline = time.monotonic() + HELPER_TIMEOUT_S
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        time.sleep(0.002)


def kill_namespace(ipc: tuple[int, int], proc: Proc | None = None) -> list[int]:
    """Stop, then SIGKILL, every process in the IPC namespace ``ipc``; repeated until none is left; the survivors."""
    proc = proc or Proc()
    return _stop_then_kill(ipc, lambda: _members(Mark(ipc=ipc), proc, proc.pids()), proc)


def _stop_then_kill(ipc: tuple[int, int], find: Callable[[], list[int]], proc: Proc) -> list[int]:
    """Stop what ``find`` names (processes in ``ipc``), again until a pass finds no new one (a stopped process forks
    no more), then SIGKILL them all; repeated ``KILL_ROUNDS`` times at most; what ``find`` still names."""
    for _ in range(KILL_ROUNDS):
        stopped: set[int] = set()
        for _ in range(STOP_PASSES):
            new = [pid for pid in find() if pid not in stopped]
            if not new:
                break
            for pid in new:
                _signal(pid, signal.SIGSTOP)
            stopped.update(new)
        if not stopped:
            return []
        for pid in stopped:
            if proc.ipc(pid) == ipc:  # still the stopped process, not a pid reused since
                _signal(pid, signal.SIGKILL)
        time.sleep(0.01)  # a process in the kernel dies when it leaves it
    return find()


def orphans(ipc: tuple[int, int], proc: Proc | None = None) -> list[int]:
    """The live processes in IPC namespace ``ipc`` whose parents, up to init, are all in it too: what a root kernel
    left once its process and its judge died (their children went to init). A process of a live kernel descends
    from that kernel's judge, which is in the host's namespace, so a namespace whose number was reused by another
    kernel yields none of its processes."""
    proc = proc or Proc()
    return [pid for pid in _members(Mark(ipc=ipc), proc, proc.pids()) if _orphaned(pid, ipc, proc)]


def _orphaned(pid: int, ipc: tuple[int, int], proc: Proc) -> bool:
    """Whether live ``pid`` reaches init through parents that are all in ``ipc``."""
    node, seen = proc.node(pid), {pid}
    while node is not None and node.state not in "ZX":
        if node.parent <= 1:
            return True
        if node.parent in seen or proc.ipc(node.parent) != ipc:
            return False
        seen.add(node.parent)
        node = proc.node(node.parent)
    return False


def kill_orphans(ipc: tuple[int, int], proc: Proc | None = None) -> list[int]:
    """Stop, then SIGKILL, the orphans in ``ipc`` (``orphans``), repeated while new ones come; the survivors."""
    proc = proc or Proc()
    return _stop_then_kill(ipc, lambda: orphans(ipc, proc), proc)


def alive(mark: Mark, proc: Proc | None = None) -> list[int]:
    """The processes with ``mark`` that are alive (stopped ones too; not zombies)."""
    proc = proc or Proc()
    return [pid for pid in _members(mark, proc, proc.pids()) if (node := proc.node(pid)) and node.state not in "ZX"]


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except OSError:
        pass

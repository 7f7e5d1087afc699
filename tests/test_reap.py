"""Finding and killing a confined kernel's processes (``guard.reap``): the walk up the parents against a fake /proc,
then real processes where this machine permits it (root on Linux), and the reply time the outside clock uses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from pytest_solbench.guard import confine, reap
from pytest_solbench.guard.reap import Mark, Node

ROOT = Path(__file__).resolve().parents[1]
IS_LINUX_ROOT = sys.platform.startswith("linux") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_LINUX_ROOT, reason="starts processes as other users: needs root on Linux")

U, WORKER, JUDGE = 1_000_123, 500, 400
NS, HOST_NS = (4, 4026532001), (4, 4026531839)


class FakeProc(reap.Proc):
    """A process table: pid -> (state, parent, start, uid, ipc); ``on_read(pid)`` may change it as the scan reads,
    the way processes come and go while /proc is read."""

    def __init__(self, table: dict[int, tuple], on_read: Callable[[int], None] = lambda pid: None) -> None:
        self.table, self.on_read, self.reads = table, on_read, 0

    def pids(self) -> list[int]:
        return sorted(self.table)

    def node(self, pid: int) -> Node | None:
        self.reads += 1
        self.on_read(pid)
        row = self.table.get(pid)
        return None if row is None else Node(row[0], row[1], row[2])

    def uids(self, pid: int) -> frozenset[int]:
        row = self.table.get(pid)
        return frozenset() if row is None else frozenset({row[3]})

    def ipc(self, pid: int) -> tuple[int, int] | None:
        row = self.table.get(pid)
        return None if row is None or row[0] in "ZX" else row[4]


def tree(**extra: tuple) -> dict[int, tuple]:
    """init <- controller <- judge <- the kernel's process (a subreaper), and what ``extra`` adds (by "p<pid>")."""
    table = {1: ("S", 0, 0, 0, HOST_NS), 300: ("S", 1, 10, 0, HOST_NS), JUDGE: ("S", 300, 20, 0, HOST_NS),
             WORKER: ("S", JUDGE, 30, U, NS)}  # fmt: skip
    table.update({int(key[1:]): row for key, row in extra.items()})
    return table


def test_a_descendant_is_no_stray_and_a_sibling_cloned_beside_the_kernels_process_is() -> None:
    proc = FakeProc(tree(p600=("S", WORKER, 40, U, NS), p601=("R", 600, 41, U, NS),  # a pool and its worker
                         p700=("S", JUDGE, 50, U, NS), p701=("S", 700, 51, U, NS)))  # CLONE_PARENT and its child
    assert reap.strays(Mark(uid=U), WORKER, proc) == [700, 701]
    assert reap.strays(Mark(ipc=NS), WORKER, proc) == [700, 701]  # a root kernel: told by its IPC namespace


def test_a_parent_that_exits_mid_walk_starts_the_walk_again_instead_of_naming_a_stray() -> None:
    """Red-team round 6 (g05): a busy pool's children come and go while the scan reads /proc; a parent that
    vanishes hands its children to the kernel's process (a subreaper), which the walk then finds."""
    table = tree(p600=("S", WORKER, 40, U, NS), p601=("S", 600, 41, U, NS))

    def pool_exits(pid: int) -> None:
        if pid == 600 and 600 in table:  # read for the first time as 601's parent: it goes, 601 is reparented
            del table[600]
            table[601] = ("S", WORKER, 41, U, NS)

    assert reap.strays(Mark(uid=U), WORKER, FakeProc(table, pool_exits)) == []


def test_a_parents_pid_reused_by_a_younger_process_is_no_parent() -> None:
    table = tree(p600=("S", WORKER, 40, U, NS), p601=("S", 600, 41, U, NS))

    def reused(pid: int) -> None:
        if pid == 600 and table[600][2] == 40:  # 600 went (601 reparented) and an unrelated process took its pid
            table[600] = ("S", 1, 90, 0, HOST_NS)
            table[601] = ("S", WORKER, 41, U, NS)

    assert reap.strays(Mark(uid=U), WORKER, FakeProc(table, reused)) == []


def test_zombies_and_processes_gone_before_their_walk_are_no_strays() -> None:
    table = tree(p700=("Z", JUDGE, 50, U, NS), p701=("S", JUDGE, 51, U, NS))
    proc = FakeProc(table, lambda pid: table.pop(701, None) if pid == 701 else None)
    assert reap.strays(Mark(uid=U), WORKER, proc) == []


def test_ancestors_that_never_stop_vanishing_end_the_walk_as_a_stray() -> None:
    table = tree(p601=("S", 600, 41, U, NS))
    proc = FakeProc(table)  # 600 is never there: every walk from 601 must start again
    assert reap.strays(Mark(uid=U), WORKER, proc) == [601]
    assert proc.reads <= 2 * reap.REWALKS + 8  # bounded


def test_a_dead_judges_root_kernel_leaves_orphans_that_are_found_and_a_live_kernel_in_a_reused_namespace_is_not(
        ) -> None:  # fmt: skip
    """Red-team round 7 (h10): a root kernel killed its judge (same user), and the escapee it had started outlived
    pytest and failed an honest kernel of the next session. Its parent noted the kernel's namespace; once the judge
    is gone it kills the orphans in it, never a live kernel's processes, which descend from their judge (the number
    of an ended namespace is reused at once)."""
    live_kernel = tree(p600=("S", WORKER, 40, U, NS))  # the namespace's number, now another judge's live kernel
    assert reap.orphans(NS, FakeProc(live_kernel)) == []
    escaped = {1: ("S", 0, 0, 0, HOST_NS), 700: ("S", 1, 50, 0, NS), 701: ("S", 700, 51, 0, NS),
               702: ("Z", 1, 52, 0, NS), 703: ("S", 1, 53, 0, HOST_NS)}  # fmt: skip
    assert reap.orphans(NS, FakeProc({**live_kernel, **escaped})) == [700, 701]  # not the zombie, not the host's


def test_the_mark_is_the_own_user_where_in_force_else_a_namespace_not_the_judges() -> None:
    me = os.getpid()
    own = FakeProc({me: ("S", 1, 0, 0, HOST_NS), WORKER: ("S", me, 1, U, NS)})
    assert reap.mark_of(WORKER, U, own) == Mark(uid=U)
    root_kernel = FakeProc({me: ("S", 1, 0, 0, HOST_NS), WORKER: ("S", me, 1, 0, NS)})
    assert reap.mark_of(WORKER, U, root_kernel) == Mark(ipc=NS)  # own-user refused (a closed folder)
    unconfined = FakeProc({me: ("S", 1, 0, 0, HOST_NS), WORKER: ("S", me, 1, 0, HOST_NS)})
    assert not reap.mark_of(WORKER, U, unconfined)  # never the judge's own namespace: nothing is looked for
    assert reap.strays(Mark(), WORKER, unconfined) == [] and reap.kill(Mark()) == []


# ---------------------------------------------------------------- real processes


def _as(uid: int) -> dict:
    return {"user": uid, "group": uid, "extra_groups": [], "start_new_session": True, "stdin": subprocess.DEVNULL,
            "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}  # fmt: skip


# The kernel's processes of g01/g03 (red-team round 6), builtins only: a stopper that stops every other process of
# its user as fast as it can, and a watcher that SIGKILLs any process of its user it did not start.
STOPPER = "while :; do kill -STOP -1 2>/dev/null; kill -CONT $W 2>/dev/null; done"
WATCHER = """
while :; do for p in /proc/[0-9]*; do q=${p#/proc/}
  case " $W $S $$ " in *" $q "*) continue;; esac
  while read -r k a rest; do [ "$k" = "Uid:" ] && { [ "$a" = "$U" ] && kill -9 $q 2>/dev/null; break; }; done < $p/status 2>/dev/null
done; done"""


@needs_root
@pytest.mark.parametrize("attempt", range(3))
def test_no_process_of_the_kernels_user_can_stop_or_kill_the_helper_that_kills_them(attempt: int) -> None:
    """Red-team round 6 (g01, g03): the kill by user ran as that user, so a kernel's processes stopped it (the judge
    then waited on it) or killed it before its kill(-1); their escapees outlived pytest. The helper now starts as
    root and ends with real and saved user ids of its own: none of them can signal it."""
    uid, other = confine.new_user(), confine.new_user()
    assert confine.OWN_UID_BASE <= min(uid, other) and uid != other  # drawn at random, not from a pid
    bystander = subprocess.Popen(["sleep", "300"], **_as(other))  # another kernel's: out of reach
    worker = subprocess.Popen(["sleep", "300"], **_as(uid))
    # One launch as that user (a second would be stopped by the first between its set-uid and its exec): the
    # watcher runs in place of the launching shell, the stopper beside it.
    env = {"W": str(worker.pid), "U": str(uid), "PATH": "/usr/bin:/bin", "STOPPER": STOPPER, "WATCHER": WATCHER}
    launch = 'sh -c "$STOPPER" & S=$!; export S; exec sh -c "$WATCHER"'
    watcher = subprocess.Popen(["sh", "-c", launch], env=env, **_as(uid))
    try:
        assert reap.kill(Mark(uid=uid), keep=[worker.pid, watcher.pid]) == []  # left to their Popen to wait for
        assert worker.wait(timeout=30) == -9 and watcher.wait(timeout=30) == -9
        assert reap.alive(Mark(uid=uid)) == []  # the stopper too
        assert bystander.poll() is None
    finally:
        for process in (bystander, worker, watcher):
            process.kill()
            process.wait()


# A kernel's process as the judge sees it: a child subreaper whose helper keeps starting short-lived children (as
# Inductor's compile workers do), and that reports when it has started them.
BUSY = """
import ctypes, os, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
if sys.argv[1] == "ipc":
    assert ctypes.CDLL(None, use_errno=True).unshare(0x08000000) == 0  # CLONE_NEWIPC: a root kernel's mark
else:  # its own user, as confinement makes it (this interpreter may live where that user cannot read)
    uid = int(sys.argv[1])
    os.setgroups([]), os.setresgid(uid, uid, uid), os.setresuid(uid, uid, uid)
pool = subprocess.Popen(["sh", "-c", "while :; do /bin/true; sh -c /bin/true & wait; done"])
print("ready", flush=True)
sys.stdin.read()
pool.kill()
"""


def _busy_worker(uid: int | None) -> subprocess.Popen:
    worker = subprocess.Popen([sys.executable, "-c", BUSY, "ipc" if uid is None else str(uid)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    return worker


@needs_root
@pytest.mark.parametrize("how", ["user", "ipc"])
def test_a_busy_pools_short_lived_children_are_never_strays_and_a_sibling_always_is(how: str) -> None:
    """Red-team round 6 (g05): a child born between the two passes of the old scan was called a stray (REWARD_HACK
    [threads] for an honest kernel). Many scans while the pool forks, none may name one of its children."""
    uid = confine.new_user() if how == "user" else None
    worker = _busy_worker(uid)
    mark, sibling = reap.mark_of(worker.pid, uid), None
    try:
        assert (mark.uid, mark.ipc is not None) == ((uid, False) if how == "user" else (None, True))
        for _ in range(150):
            assert reap.strays(mark, worker.pid) == []
        if how == "user":  # out of the worker's tree, with its mark: what CLONE_PARENT makes
            sibling = subprocess.Popen(["sleep", "300"], **_as(uid))
        else:
            sibling = subprocess.Popen(["nsenter", f"--ipc=/proc/{worker.pid}/ns/ipc", "sleep", "300"])
            for _ in range(3000):  # until nsenter has entered it (not a timing assertion: it must, at some point)
                if reap.Proc().ipc(sibling.pid) == mark.ipc:
                    break
                time.sleep(0.01)
        for _ in range(20):
            assert reap.strays(mark, worker.pid) == [sibling.pid]
        assert reap.kill(mark, keep=[worker.pid, sibling.pid]) == []  # left to their Popen to wait for
        assert worker.wait(timeout=30) == -9 and sibling.wait(timeout=30) == -9
        assert reap.strays(mark, worker.pid) == []
    finally:
        reap.kill(mark)  # the pool's shell too, whatever failed above
        for process in (worker, sibling):
            if process is not None:
                process.kill()
                process.wait()


@needs_root
def test_the_judges_killed_children_are_waited_for_not_left_as_zombies() -> None:
    """A sibling a kernel's process clones with CLONE_PARENT is the judge's child: once killed, as a stray after a
    call or at retirement, it is waited for, or its zombie would hold its pid until the judge exits."""
    uid = confine.new_user()
    siblings = [_forked_as(uid) for _ in range(2)]
    assert reap.kill(Mark(uid=uid)) == []
    for pid in siblings:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # waited for already: no zombie left
    loose = _forked_as(uid)
    os.kill(loose, 9)
    reap.reap([loose, 1])  # what a stray scan killed; pid 1 is nobody's child here: left alone
    with pytest.raises(ChildProcessError):
        os.waitpid(loose, os.WNOHANG)


def _forked_as(uid: int) -> int:
    """A child of this process, running as ``uid`` until killed (a fork: no exec, nothing to wait for but it)."""
    import warnings

    ready, done = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        try:
            os.close(ready)
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.write(done, b"u")  # its user is set: from here on it carries the mark
            time.sleep(300)
        finally:
            os._exit(0)
    os.close(done)
    assert os.read(ready, 1) == b"u"
    os.close(ready)
    return pid


@needs_root
def test_the_orphans_a_root_kernel_left_in_its_namespace_are_killed() -> None:
    """A process in a namespace of its own whose parent exited (its kernel's process, killed with the judge) is an
    orphan of that namespace, and dies; nothing of the host's namespace is touched."""
    shell = subprocess.run(["unshare", "--ipc", "sh", "-c", "sleep 300 </dev/null >/dev/null 2>&1 & echo $!"],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    orphan = int(shell.stdout.split()[0])
    try:
        ipc = reap.Proc().ipc(orphan)
        assert ipc is not None and ipc != reap.Proc().ipc(os.getpid())
        assert orphan in reap.orphans(ipc)
        assert reap.kill_orphans(ipc) == [] and _gone(orphan)
    finally:
        try:
            os.kill(orphan, 9)
        except ProcessLookupError:
            pass


def _gone(pid: int) -> bool:
    """Whether ``pid`` ends (or is a zombie) within a minute: killed, it is reaped by init at its own pace."""
    for _ in range(600):
        node = reap.Proc().node(pid)
        if node is None or node.state in "ZX":
            return True
        time.sleep(0.1)
    return False


# ---------------------------------------------------------------- the reply time the outside clock uses


def test_the_reply_time_is_taken_before_the_stray_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Red-team round 6 (g09): the stray scan after each reply (20 ms with 1000 host processes) fell inside the
    outside clock's batch and not always inside the round trip it subtracts: an honest fast kernel failed
    [outside-clock]. Here each scan takes 1000 s by a clock the pool reads: none of it is in the reply time."""
    from pytest_solbench.worker import pool as pool_module

    clock = {"skew": 0.0}

    class Clock:
        def __getattr__(self, name: str):
            return getattr(time, name)

        def perf_counter(self) -> float:
            return time.perf_counter() + clock["skew"]

    def slow_scan(worker) -> list[int]:
        clock["skew"] += 1000.0
        return []

    monkeypatch.setattr(pool_module, "time", Clock())
    monkeypatch.setattr(pool_module._Worker, "_kill_strays", slow_scan)
    with pool_module.WorkerPool(plain=True) as pool:
        for _ in range(3):
            assert pool.call("pytest_solbench.worker.harness:ping", {}, 60) == {}
            assert 0 < pool.last_reply_ms < 1000e3
    assert clock["skew"] == 3000.0  # every call was scanned, after its time was taken

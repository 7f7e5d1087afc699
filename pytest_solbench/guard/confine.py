"""OS confinement of a kernel's worker process, where the machine allows it (DESIGN §10; docs/threat-model.md).

:func:`confine` applies, in this order, every measure the process may take, and returns a :class:`Confinement`
saying which are in force and why the others are not:

- ``private-temp``: a temp folder of its own (a tmpfs where mounts are allowed), made the process's ``TMPDIR``
  and the home of Triton's, Inductor's and torch extensions' caches and of the plugin's own (a solution's sources,
  a CUDA kernel's build), so one kernel cannot poison another's compiled code and nothing a kernel brings is
  written outside it; ``bytecode``: ``sys.pycache_prefix`` points there too, so a ``__pycache__`` shipped beside
  a kernel (whose pyc may not match its source) is never read (after the warm-up the prefix is a path no one can
  write, ``worker.execute.NO_BYTECODE``, and the kernel's own modules compile from the text the rules read:
  ``data.importing``);
- ``rlimits``: no core files, files of at most 1 GiB;
- ``process-cap``: a cap on processes and threads (a fork bomb stops there); not for root, for whom Linux does not
  enforce ``RLIMIT_NPROC`` (fork's check exempts uid 0, capabilities dropped or not);
- ``network`` (root, Linux): a network namespace of its own, with no interfaces, not even loopback;
- ``ipc`` (root, Linux): an IPC namespace of its own: System V shared memory, semaphores and message queues it
  makes are its own and go with it (a segment left behind would outlive the session, uncapped);
- ``read-only-fs`` (root, Linux): a mount namespace of its own, private, where every file system is remounted
  read-only but ``/dev`` (GPUs, shared memory), ``/proc``, ``/sys``, the private temp and the folders named
  writable (a CUDA kernel's build folder, the judge's folders of tensors shared with this process);
- ``read-only-proc`` (in that namespace): ``/proc`` and ``/sys`` and every mount under them read-only (reading
  stays open: CUDA and the tripwires read both). Without a user of its own the process is root with no capability,
  yet still the owner of root's files there: the host's settings in ``/proc/sys`` (``kernel.core_pattern`` names a
  command the host runs as root on a crash), cgroups under ``/sys/fs/cgroup``, the judge's
  ``/proc/<pid>/oom_score_adj`` (red-team round 11, m01);
- ``private-dev`` (in that namespace): a ``/dev`` of its own, read-only, holding only ``DEV_NODES`` bound from the
  machine's, the ``fd`` links and the machine's ``/dev/shm`` (which ``private-shm`` then covers): a process of root's
  user opened ``/dev/kmsg``, ttys and loop and zram block devices for writing through the machine's (red-team round
  12, n03). A CUDA kernel's process has the driver's nodes bound in too (``CUDA_DEV``: ``/dev/nvidia*``,
  ``/dev/nvidia-caps``);
- ``private-shm`` (in that namespace): a ``/dev/shm`` of its own (a tmpfs of at most ``SHM_BYTES``) where only the
  judge's folders for this process are bound back, so a kernel can neither read nor write another kernel's shared
  tensors, nor fill the machine's ``/dev/shm`` to fail the kernels after it;
- ``own-user`` (root): the process becomes a user of its own (``OWN_UID_BASE`` + its pid, in no passwd file), so
  what file permissions guard is out of its reach (the host's ``/dev`` and ``/proc/sys``, root's files), it can
  signal no process but its own children (not the judge, not another kernel: each has a user of its own), and
  ``process-cap`` holds (Linux enforces ``RLIMIT_NPROC`` for users other than root). Only where what the process
  reads is open to other users: the Python path, the problem folders and the blob root with all that is in them
  (``SOLBENCH_READ_DIRS``), and the way to the kernel folders named on the command line (``SOLBENCH_KERNEL_DIRS``,
  never the folders or what is in them: a kernel folder or its files cannot turn the measure off for the session;
  a closed one fails that kernel's items, with :func:`own_user_hint`). A virtual environment under ``/root`` is not open, and the reason is
  then given. ``SOLBENCH_OWN_USER=0`` turns it off;
- ``capabilities`` (root): every capability dropped, with no way back (``PR_SET_NO_NEW_PRIVS``), so the kernel can
  neither undo the above (remount, ``setns``), nor read or write other processes' memory;
- ``no-userns`` (Linux, x86_64 or aarch64): a seccomp filter (``guard.seccomp``) that refuses every new namespace
  (``unshare``, ``clone`` with a ``CLONE_NEW*`` flag, ``setns``, ``clone3``), so the process cannot make a user
  namespace, gain every capability in it and leave the IPC namespace the judge finds it by (red-team round 6, g08).

``SOLBENCH_CONFINE_OFF=read-only-proc,private-dev`` leaves the named measures out (the header lists them as not in
force): a way to find which one breaks a machine's kernels, never a default.

Whatever the machine allows, :func:`for_kernel` then makes the process not dumpable (``undumpable``; the judge's
process does the same): its ``/proc/<pid>/mem``, ``fd`` and ``environ`` belong to root and open only with
``CAP_SYS_PTRACE``, which no kernel holds, so one kernel's process cannot read or write another's memory, or the
judge's, though they run as the same user.

Namespaces and capabilities belong to the calling thread and to the threads and processes it starts later; threads
started before (torch's pools, CUDA's) keep the old view, and native code of a kernel can run on them (ATen's
``parallel_for``). So a kernel's process confines itself first thing, before any thread starts (its pool's
initializer, ``worker.execute.confined_warm_up``), and :func:`threads_checked` then reads every thread of the
process (``/proc/self/task``): a measure some thread does not share is not in force, with the thread named. The
seccomp filter of ``no-userns`` is per thread too, but installed in every thread at once (``TSYNC``).

All system calls go through a :class:`System` (the real one uses ``os`` and libc through ``ctypes``), so tests
can drive both paths: the real one where this machine permits it, a fake one where not.

Long: the measures, the system calls they make and the check that every thread holds them are one sequence whose
order is the point (private before read-only, capabilities last, threads checked after); apart, it would be spread.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import resource
import stat
import sys
import tempfile
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from pytest_solbench.guard import seccomp

MEASURES = ("private-temp", "bytecode", "rlimits", "process-cap", "network", "ipc", "read-only-fs", "read-only-proc",
            "private-dev", "private-shm", "own-user", "capabilities", "no-userns")
ENV_ON = "SOLBENCH_CONFINE"  # "1" in the environment of the plugin's workers: only there does confine run
SHARED_ENV = "SOLBENCH_SHARED_DIRS"  # the judge's folders of tensors shared with a worker (``worker.shm.own_folders``)
READ_ENV = "SOLBENCH_READ_DIRS"  # folders a kernel's process reads, all that is in them: problem folders, blob root
KERNEL_DIRS_ENV = "SOLBENCH_KERNEL_DIRS"  # the kernel folders named on the command line: their paths, not their files
OWN_USER_ENV = "SOLBENCH_OWN_USER"  # "0": kernels' processes stay the user who started pytest (a machine where it breaks)
OWN_UID_BASE = 1_000_000  # kernels' own user ids: OWN_UID_BASE + a random number below 2**30 (``new_user``)
OWN_UID_ENV = "SOLBENCH_OWN_UID"  # the user id the judge chose for one kernel's process (``new_user``)
FILE_SIZE_BYTES = 1 << 30
THREAD_HEADROOM = 4096  # processes and threads a kernel may add to those its user already runs
KEEP_WRITABLE = ("/dev", "/proc", "/sys")  # GPUs and shared memory; /proc and /sys are read-only-proc's
VIEWS = ("/proc", "/sys")  # the kernel's views of processes, devices and the host's settings: read, never written
# A CUDA kernel's process: the CUDA driver names each thread it starts by writing /proc/self/task/<tid>/comm, and its
# first call fails where it cannot (cudaGetDeviceCount error 304, "OS call failed"; H100, driver 580, seen with
# benchmarks/confine_probe.py). So there /sys and the host's settings under /proc are read-only (the paths a
# container runtime makes read-only), and the processes' own files under /proc stay writable.
CUDA_VIEWS = ("/sys", "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs")
CUDA_PROC = ("in part: the CUDA driver names its threads through /proc/self/task/<tid>/comm (under a read-only /proc "
             "its first call failed: error 304, H100, driver 580), so only /sys and /proc/sys, sysrq-trigger, irq, "
             "bus and fs are read-only; processes' files under /proc stay writable")
DEV_NODES = ("null", "zero", "full", "random", "urandom")  # what a kernel's process may open in its own /dev
DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}
CUDA_DEV = ("nvidia", "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset", "nvidia-caps")  # prefixes
DEV = "/dev"  # the machine's, whose nodes a private one binds in
OFF_ENV = "SOLBENCH_CONFINE_OFF"  # measures to leave out, comma-separated: to find which one breaks a machine's kernels
CUDA_SHM = ("the CUDA driver opens shared GPU memory through the machine's /dev/shm (under a private one every "
            "shared tensor failed: cudaErrorMapBufferObjectFailed, H100, driver 580)")
CUDA_OWN_USER = ("the CUDA driver's file of the judge's shared GPU memory (/dev/shm/cuda.shm.*) is the judge's user's: "
                 "a process of another user could not open any shared tensor (H100, driver 580)")
SHM_BYTES = 1 << 30  # the private /dev/shm's size (semaphores, a library's shared buffers)
TEMP_BYTES, TEMP_INODES = 4 << 30, 1 << 20  # the private temp's tmpfs (caches, a CUDA kernel's build)
MNT_DETACH = 2

CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWIPC = 0x00020000, 0x40000000, 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND = 1, 2, 4, 8, 32, 4096
MS_NOATIME, MS_NODIRATIME, MS_REC, MS_PRIVATE, MS_RELATIME = 1024, 2048, 16384, 1 << 18, 1 << 21
MS_MOVE = 8192
_KEPT_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
               "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME}  # fmt: skip
PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 24, 47, 4
PR_SET_PDEATHSIG, PR_GET_PDEATHSIG = 1, 2


@dataclass(frozen=True)
class Confinement:
    """Which measures are in force in this process, and for each other one why not."""

    in_force: tuple[str, ...] = ()
    missing: tuple[tuple[str, str], ...] = ()  # (measure, why it is not in force)
    temp_dir: str | None = None
    escaped: tuple[str, ...] = ()  # measures taken but not shared by every thread (``threads_checked``): a fault

    def header_line(self) -> str:
        """One line for the session header."""
        if not self.missing:
            return "solbench: kernels confined: " + ", ".join(self.in_force)
        why = "; ".join(f"{measure}: {reason}" for measure, reason in self.missing)
        if not self.in_force:
            return f"solbench: WARNING kernels run unconfined ({why})"
        return f"solbench: kernels confined: {', '.join(self.in_force)}; not in force: {why}"

    def to_json(self) -> str:
        return json.dumps({"in_force": list(self.in_force), "missing": [list(m) for m in self.missing],
                           "temp_dir": self.temp_dir, "escaped": list(self.escaped)})  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> Confinement:
        data = json.loads(text)
        return cls(tuple(data["in_force"]), tuple(tuple(m) for m in data["missing"]), data.get("temp_dir"),
                   tuple(data.get("escaped") or ()))  # fmt: skip


@dataclass(frozen=True)
class Task:
    """One thread of this process, as ``/proc/self/task/<tid>`` shows it."""

    tid: int
    name: str
    capabilities: int  # CapEff, the effective capability set
    namespaces: tuple[tuple[str, str], ...]  # (kind, the namespace's identity) for "mnt", "net" and "ipc"
    seccomp: int = 0  # its seccomp mode: 0 none, 1 strict, 2 filter
    filters: int | None = None  # how many seccomp filters it has (None: the kernel does not say, before Linux 5.9)


class System:
    """The system calls confinement needs; raises OSError with the errno the kernel gave."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)

    def _check(self, result: int, what: str) -> None:
        if result != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"{what}: {os.strerror(errno)}")

    def is_linux(self) -> bool:
        return sys.platform.startswith("linux")

    def is_root(self) -> bool:
        return os.geteuid() == 0

    def unshare(self, flags: int) -> None:
        if hasattr(os, "unshare"):  # Python 3.12+
            os.unshare(flags)
        else:
            self._check(self.libc.unshare(ctypes.c_int(flags)), "unshare")

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
        result = self.libc.mount(_c(source), _c(target), _c(fstype), ctypes.c_ulong(flags), _c(data))
        self._check(result, f"mount {target}")

    def umount(self, target: str) -> None:
        self._check(self.libc.umount2(_c(target), ctypes.c_int(MNT_DETACH)), f"umount {target}")

    def mounts(self) -> list[tuple[str, str]]:
        """(mount point, its options) of this process's mount namespace, parents before children."""
        found = []
        with open("/proc/self/mountinfo") as handle:
            for line in handle:
                fields = line.split()
                found.append((fields[4].encode().decode("unicode_escape"), fields[5]))
        return found

    def setrlimit(self, which: int, limits: tuple[int, int]) -> None:
        resource.setrlimit(which, limits)

    def user_threads(self) -> int | None:
        """Threads of this real user now, all processes together (what RLIMIT_NPROC counts); None without /proc."""
        uid, total = str(os.getuid()), 0
        try:
            pids = [p for p in os.listdir("/proc") if p.isdigit()]
        except OSError:
            return None
        for pid in pids:
            try:
                with open(f"/proc/{pid}/status") as handle:
                    status = dict(line.split(":", 1) for line in handle if ":" in line)
            except OSError:
                continue
            if status.get("Uid", "").split()[:1] == [uid]:
                total += int(status.get("Threads", "1").strip() or 1)
        return total

    def tasks(self) -> tuple[int, list[Task]]:
        """The calling thread's id and every thread of this process (one that ends meanwhile is left out)."""
        import threading

        found = []
        for tid in sorted(os.listdir("/proc/self/task"), key=int):
            base = f"/proc/self/task/{tid}"
            try:
                with open(f"{base}/status") as handle:
                    status = dict(line.split(":", 1) for line in handle if ":" in line)
                namespaces = tuple((kind, os.readlink(f"{base}/ns/{kind}")) for kind in ("mnt", "net", "ipc"))
            except OSError:
                continue
            found.append(Task(int(tid), status["Name"].strip(), int(status["CapEff"], 16), namespaces,
                              *seccomp.thread_filters(status)))
        return threading.get_native_id(), found

    def become(self, uid: int) -> None:
        """Every thread of this process takes ``uid`` (and the same group id), with no supplementary groups; a
        process that was root then holds no capability (glibc applies set*id to all threads). Linux clears the
        parent-death signal on a change of user: the one the pool set (die with the judge) is set again, and if the
        judge went meanwhile, the process goes now (red-team round 7: a kernel's process outlived its killed judge)."""
        prctl = self.libc.prctl
        prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        death = ctypes.c_int(0)
        prctl(PR_GET_PDEATHSIG, ctypes.addressof(death), 0, 0, 0)
        parent = os.getppid()
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if death.value:
            self._check(prctl(PR_SET_PDEATHSIG, death.value, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
            if os.getppid() != parent:  # the parent died before the line above: no signal will come
                os._exit(1)

    def chown(self, path: str, uid: int) -> None:
        os.chown(path, uid, uid, follow_symlinks=False)

    def share_folder(self, path: str, uid: int) -> None:
        os.chown(path, 0, uid)
        os.chmod(path, 0o710)

    def closed_to_others(self, paths: Iterable[str], through: Iterable[str] = (), trees: Iterable[str] = (),
                         skip: Iterable[str] = ()) -> str | None:  # fmt: skip
        return closed_to_others(paths, through, trees, skip)

    def limit_privileges(self) -> None:
        """No privilege gained by exec from now on, and no capability this process could ever take back up (the
        bounding and ambient sets emptied); what it holds now stays until :meth:`drop_capabilities`."""
        prctl = self.libc.prctl
        prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        self._check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
        try:
            with open("/proc/sys/kernel/cap_last_cap") as handle:
                last = int(handle.read())
        except (OSError, ValueError):
            last = 40
        for cap in range(last + 1):
            self._check(prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"prctl(PR_CAPBSET_DROP, {cap})")
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)  # absent before Linux 4.3: nothing to clear then

    def deny_namespaces(self) -> None:
        """Every thread of this process, and all it starts, refused any new namespace (``guard.seccomp``)."""
        seccomp.install()

    def drop_capabilities(self) -> None:
        """This thread holds no capability (threads started later inherit that)."""
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
        data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable, twice (64 bits): all empty
        self._check(self.libc.capset(header, data), "capset")


def _c(text: str | None) -> bytes | None:
    return None if text is None else os.fsencode(text)


def confine(writable: Sequence[str] = (), *, temp_root: str | None = None, shared: Sequence[str] | None = (),
            read: Sequence[str] = (), kernel_dirs: Sequence[str] = (), system: Any = None,
            cuda: bool = False) -> Confinement:  # fmt: skip
    """Confine this process as far as the machine allows; see the module's docstring. ``writable``: folders that
    stay writable under a read-only file system; ``temp_root``: where the private temp folder is made; ``shared``:
    the judge's folders of tensors shared with this process (kept writable, and in its private /dev/shm); None when
    the judge named none (then /dev/shm is left as it is: tensors may be shared anywhere in it); ``read``: folders
    the process will read beside the Python path, all that is in them (a user of its own must be able to);
    ``kernel_dirs``: the kernel folders named on the command line, of which only the way there must be open;
    ``cuda``: the process opens the judge's CUDA tensors (``CUDA_SHM``, ``CUDA_OWN_USER``)."""
    system = system or System()
    done: list[str] = []
    missing: list[tuple[str, str]] = []
    temp = tempfile.mkdtemp(prefix="solbench-kernel-", dir=temp_root)
    linux_root = system.is_linux() and system.is_root()
    why_not_root = "needs root on Linux" if system.is_linux() else f"needs Linux, this is {sys.platform}"

    if linux_root:
        _step("network", lambda: system.unshare(CLONE_NEWNET), done, missing)
        _step("ipc", lambda: system.unshare(CLONE_NEWIPC), done, missing)
        _step("read-only-fs", lambda: _read_only(system, temp, [temp, *writable, *(shared or ())]), done, missing)
        if "read-only-fs" in done and cuda:  # in part: /sys and the host's settings under /proc (``CUDA_PROC``)
            partly: list[str] = []
            _step("read-only-proc", lambda: _read_only_views(system, CUDA_VIEWS), partly, missing)
            missing += [("read-only-proc", CUDA_PROC)] if partly else []
        elif "read-only-fs" in done:
            _step("read-only-proc", lambda: _read_only_views(system), done, missing)
        if "read-only-fs" in done:
            _step("private-dev", lambda: _private_dev(system, temp, cuda_nodes() if cuda else ()), done, missing)
        else:
            missing += [("read-only-proc", "needs the mount namespace of read-only-fs"),
                        ("private-dev", "needs the mount namespace of read-only-fs")]
        if cuda:
            missing.append(("private-shm", CUDA_SHM))
        elif shared is None:
            missing.append(("private-shm", "the judge named no folders of its own for this process"))
        elif "read-only-fs" in done:
            _step("private-shm", lambda: _private_shm(system, shared), done, missing)
        else:
            missing.append(("private-shm", "needs the mount namespace of read-only-fs"))
    else:
        missing += [("network", why_not_root), ("ipc", why_not_root), ("read-only-fs", why_not_root),
                    ("read-only-proc", why_not_root), ("private-dev", why_not_root), ("private-shm", why_not_root)]
    _private_temp(temp)
    done += ["private-temp", "bytecode"]
    # Inductor compiles in this process, with no pool of workers: then no process but the kernel's own is ever left
    # after a call, and one that is, however it is dressed, is the kernel's (guard.tripwires; round 7b, i01).
    os.environ["TORCHINDUCTOR_COMPILE_THREADS"] = "1"
    _step("rlimits", lambda: _limits(system), done, missing)
    if linux_root:
        limited = _attempt(system.limit_privileges)
        mine = [temp, *writable]
        if os.environ.get(OWN_USER_ENV, "1") == "0":
            missing.append(("own-user", f"turned off ({OWN_USER_ENV}=0)"))
        elif cuda:
            missing.append(("own-user", CUDA_OWN_USER))
        else:
            _step("own-user", lambda: _own_user(system, temp, mine, read, shared or (), kernel_dirs), done, missing)
        dropped = limited or _attempt(system.drop_capabilities)
        if dropped:
            missing.append(("capabilities", dropped))
        else:
            done.append("capabilities")
    else:
        missing.append(("own-user", "runs as the user who started pytest: only root can give it one of its own"
                        if system.is_linux() else why_not_root))  # fmt: skip
        missing.append(("capabilities", "none to drop: not root" if system.is_linux() else why_not_root))
    if system.is_linux():  # last: the measures above made their namespaces; none is made after this
        _step("no-userns", system.deny_namespaces, done, missing)
    else:
        missing.append(("no-userns", f"needs Linux, this is {sys.platform}"))
    if system.is_root():
        missing.append(("process-cap", "Linux does not enforce RLIMIT_NPROC for root, as kernels run here"))
    else:
        _step("process-cap", lambda: _process_cap(system), done, missing)
    order = {m: i for i, m in enumerate(MEASURES)}
    return Confinement(tuple(sorted(done, key=order.get)), tuple(sorted(missing, key=lambda m: order[m[0]])), temp)


def for_kernel(cuda: bool = False) -> Confinement | None:
    """A kernel's process's call site: confine it once, first thing (before any thread starts), when the plugin's
    worker pool asked for it (``SOLBENCH_CONFINE=1``); never in pytest's own process (``--solbench-isolate none``).
    Every call, the first included, checks every thread of the process again (``threads_checked``): call it once
    more after the warm-up and before the kernel is loaded. Nothing outside the private temp stays writable but the
    judge's folders of shared tensors: a solution's sources and a CUDA kernel's build go in the private temp."""
    if os.environ.get(ENV_ON) != "1":
        return None
    if not _DONE:
        named = os.environ.get(SHARED_ENV)
        shared = None if named is None else [p for p in named.split(os.pathsep) if p]
        _DONE.append(confine(temp_root=os.environ.get("SOLBENCH_CONFINE_ROOT"), shared=shared, read=_named(READ_ENV),
                             kernel_dirs=_named(KERNEL_DIRS_ENV), cuda=cuda))  # fmt: skip
        undumpable()  # after the measures above: a change of credentials could reset it
        subreaper()
    _DONE[0] = threads_checked(_DONE[0])
    return _DONE[0]


#: Measures held per thread, and the namespace each needs a thread to share with the one that confined (None: no
#: capability; "seccomp": the filters of the confining thread).
PER_THREAD = {"network": "net", "ipc": "ipc", "read-only-fs": "mnt", "private-shm": "mnt", "capabilities": None,
              "no-userns": "seccomp"}


def threads_checked(result: Confinement, system: Any = None) -> Confinement:
    """``result`` less the measures that some thread of this process does not share with the calling one (a thread
    started before confinement keeps every capability and the host's namespaces): each is then not in force, the
    first such thread named, and listed in ``escaped``."""
    system = system or System()
    held = [m for m in PER_THREAD if m in result.in_force]
    if not held or not system.is_linux():
        return result
    try:
        me, tasks = system.tasks()
    except OSError as exc:
        escaped = [(m, f"the threads of this process cannot be read: {exc.strerror or exc}") for m in held]
        return _without(result, escaped)
    mine = dict(next((t.namespaces for t in tasks if t.tid == me), ()))
    my_filters = next((t.filters for t in tasks if t.tid == me), None)

    def shares(task: Task, kind: str | None) -> bool:
        if kind == "seccomp":  # a filter, and no fewer than this thread's (one from a container's runtime may be all)
            return task.seccomp == 2 and (task.filters is None or my_filters is None or task.filters >= my_filters)
        return task.capabilities == 0 if kind is None else dict(task.namespaces).get(kind) == mine.get(kind)

    escaped = []
    for measure in held:
        kind = PER_THREAD[measure]
        outside = [t for t in tasks if not shares(t, kind)]
        if outside:
            first = outside[0]
            what = (f"holds capabilities {first.capabilities:#x}" if kind is None
                    else f"lacks the seccomp filter (mode {first.seccomp}, {first.filters} filters)"
                    if kind == "seccomp" else f"is in another {kind} namespace ({dict(first.namespaces).get(kind)})")
            more = f" (and {len(outside) - 1} more)" if len(outside) > 1 else ""
            why = "the filter did not reach it" if kind == "seccomp" else "it started before the process was confined"
            escaped.append((measure, f"thread {outside[0].tid} ({outside[0].name}){more} {what}: {why}"))
    return _without(result, escaped) if escaped else result


def _without(result: Confinement, escaped: list[tuple[str, str]]) -> Confinement:
    names = {m for m, _ in escaped}
    order = {m: i for i, m in enumerate(MEASURES)}
    missing = sorted([*(m for m in result.missing if m[0] not in names), *escaped], key=lambda m: order[m[0]])
    return Confinement(tuple(m for m in result.in_force if m not in names), tuple(missing), result.temp_dir,
                       tuple(sorted({*result.escaped, *names}, key=order.get)))  # fmt: skip


_DONE: list[Confinement] = []
PR_SET_DUMPABLE = 4


def undumpable() -> bool:
    """``prctl(PR_SET_DUMPABLE, 0)``: this process's memory and file descriptors under ``/proc`` open for no process
    without ``CAP_SYS_PTRACE`` (same user or not); whether it held (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    return libc.prctl(ctypes.c_int(PR_SET_DUMPABLE), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0),
                      ctypes.c_ulong(0)) == 0  # fmt: skip


PR_SET_CHILD_SUBREAPER = 36


def subreaper() -> bool:
    """``prctl(PR_SET_CHILD_SUBREAPER, 1)``: a process this one's children leave behind (a daemon detached with
    ``setsid`` and a double fork) is reparented here, not to init, so it stays a child the tripwires count and dies
    with this process's retirement instead of outliving the session (red-team round 4); whether it held."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    return libc.prctl(ctypes.c_int(PR_SET_CHILD_SUBREAPER), ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0),
                      ctypes.c_ulong(0)) == 0  # fmt: skip


def probe() -> None:
    """``python -c "from pytest_solbench.guard.confine import probe; probe()"``: confine a throwaway process and
    print the :class:`Confinement` as JSON, for the controller's session header."""
    import threading

    root = tempfile.mkdtemp(prefix="solbench-probe-")
    os.chmod(root, 0o711)  # as the plugin's folder for kernels' temps: passable for a user of its own
    result = confine(temp_root=root, read=_named(READ_ENV), kernel_dirs=_named(KERNEL_DIRS_ENV),
                     cuda=os.environ.get(PROBE_CUDA_ENV) == "1")
    done = threading.Event()
    thread = threading.Thread(target=done.wait, daemon=True)  # started after: it must share every measure
    thread.start()
    result = threads_checked(result)
    done.set()
    thread.join()
    print(result.to_json(), flush=True)


PROBE_CUDA_ENV = "SOLBENCH_PROBE_CUDA"


def probe_in_subprocess(timeout_s: float = 30.0, reads: Mapping[str, str] | None = None,
                        cuda: bool = False) -> Confinement:  # fmt: skip
    """What a kernel's worker gets on this machine, found by confining a short-lived interpreter (``reads``: what
    kernels will read, as :func:`read_env` names it for their processes; ``cuda``: a worker of CUDA kernels)."""
    import shutil
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = f"import sys; sys.path[:] = [{root!r}, *filter(None, sys.path)]; from pytest_solbench.guard.confine import probe; probe()"
    try:
        env = {**os.environ, READ_ENV: "", KERNEL_DIRS_ENV: "", **(reads or {}), PROBE_CUDA_ENV: "1" if cuda else "0"}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout_s, env=env)
        result = Confinement.from_json(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError, KeyError) as exc:
        return Confinement((), tuple((m, f"the probe failed: {exc}") for m in MEASURES))
    if result.temp_dir:
        shutil.rmtree(os.path.dirname(result.temp_dir), ignore_errors=True)
    return result


# ---------------------------------------------------------------- the measures


def _step(measure: str, action: Any, done: list[str], missing: list[tuple[str, str]]) -> None:
    if measure in os.environ.get(OFF_ENV, "").replace(" ", "").split(","):
        missing.append((measure, f"turned off ({OFF_ENV})"))
        return
    try:
        action()
    except OSError as exc:
        missing.append((measure, str(exc.strerror or exc)))
    else:
        done.append(measure)


def _attempt(action: Any) -> str | None:
    """Run ``action``; None, or why it failed."""
    try:
        action()
    except OSError as exc:
        return str(exc.strerror or exc)
    return None


def _own_user(system: Any, temp: str, mine: Sequence[str], trees: Sequence[str], shared: Sequence[str] = (),
              kernel_dirs: Sequence[str] = ()) -> None:  # fmt: skip
    """Become a user of this process's own (``own-user``): the folders it writes are given to that user first (the
    judge's shared folders stay root's, their group that user's, so it may pass through and open the judge's files
    in them, which take that owner, but make none), and its home is the private temp. Refused, with the folder
    named, where something the session's user chose is closed to others: the Python path, the way to each kernel
    folder, and ``trees`` (problem folders, the blob root) with what is in them but the kernel folders. A kernel
    folder itself and what its author put in it are never looked at here: a closed file there (red-team round 6),
    or the folder closed (round 12, n07), would turn the measure off for every kernel of the session; it fails its
    own kernels' items instead, when their process meets it (:func:`own_user_hint`)."""
    closed = system.closed_to_others(sys.path, through=[*mine, *shared, *kernel_dirs], trees=trees, skip=kernel_dirs)
    if closed:
        raise OSError(13, f"{closed} is closed to other users (a kernel's process runs as a user of its own where "
                          "it may read what it needs: o+r on files, o+rx on folders, o+x on every folder above)")
    uid = int(os.environ.get(OWN_UID_ENV) or new_user())
    for top in mine:
        if not os.path.isdir(top):
            continue
        system.chown(top, uid)
        for folder, dirs, files in os.walk(top):
            for name in [*dirs, *files]:
                system.chown(os.path.join(folder, name), uid)
    for folder in shared:
        if os.path.isdir(folder):
            system.share_folder(folder, uid)
    system.become(uid)
    os.environ["HOME"] = os.environ["XDG_CACHE_HOME"] = temp  # root's home is closed to this user


def read_env(kernel_dirs: Iterable[Any], problem_paths: Iterable[Any], blob_root: Any = None) -> dict[str, str]:
    """What a kernel's process reads beside the Python path, for its environment and the header's probe's:
    ``READ_ENV`` the problem folders and the blob root (all that is in them must be open to other users),
    ``KERNEL_DIRS_ENV`` the kernel folders named on the command line (only the way there: what is in them is the
    kernel authors'). Of a file, its folder."""
    def folders(paths: Iterable[Any]) -> str:
        found = [os.fspath(p) if os.path.isdir(p) else os.path.dirname(os.fspath(p)) for p in paths]
        return os.pathsep.join(dict.fromkeys(found))

    return {READ_ENV: folders([*problem_paths, *([blob_root] if blob_root else [])]),
            KERNEL_DIRS_ENV: folders(kernel_dirs)}  # fmt: skip


def _named(key: str) -> list[str]:
    """The folders an environment variable of :func:`read_env` names."""
    return [p for p in os.environ.get(key, "").split(os.pathsep) if p]


def new_user() -> int:
    """A user id for one kernel's process, drawn at random (never ``OWN_UID_BASE`` + its pid: a process that
    outlived an earlier kernel could wait for that pid and own the next kernel's process) and run by no process."""
    import secrets

    while True:
        uid = OWN_UID_BASE + secrets.randbelow(1 << 30)
        if uid not in _users_running():
            return uid


def _users_running() -> set[int]:
    from pytest_solbench.guard.reap import Proc

    proc = Proc()
    return {uid for pid in proc.pids() for uid in proc.uids(pid)}


TREE_ENTRIES = 20_000  # what is looked at under one kernel or problem folder before the rest is taken as open


def closed_to_others(paths: Iterable[str], through: Iterable[str] = (), trees: Iterable[str] = (),
                     skip: Iterable[str] = ()) -> str | None:  # fmt: skip
    """The first of ``paths`` (existing files or folders) that a user other than its owner cannot reach: a folder
    on the way without o+x, or the path itself without o+r (o+rx for a folder); then the first folder on the way to
    one of ``through`` without o+x; then the first of ``trees`` or what is under it (up to ``TREE_ENTRIES`` each)
    closed so, leaving out what is in the folders ``skip`` names (kernel folders inside a problem folder); None if
    all are open."""
    for path in through:
        above = _untraversable(path)
        if above:
            return above
    skipped = {os.path.realpath(p) for p in skip}
    for tree in trees:
        found = closed_to_others([tree])
        if found or not os.path.isdir(tree) or os.path.realpath(tree) in skipped:
            if found:
                return found
            continue
        seen = 0
        for folder, dirs, files in os.walk(tree):
            dirs[:] = [d for d in dirs if d not in ("__pycache__", ".git")
                       and os.path.realpath(os.path.join(folder, d)) not in skipped]  # fmt: skip
            for name in [*dirs, *files]:
                seen += 1
                if seen > TREE_ENTRIES:
                    break
                path = os.path.join(folder, name)
                mode = os.lstat(path).st_mode
                if stat.S_ISLNK(mode):
                    continue
                need = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
                if mode & need != need:
                    return path
            if seen > TREE_ENTRIES:
                break
    for path in paths:
        path = os.path.realpath(path or os.curdir)
        if not os.path.exists(path):
            continue
        above = _untraversable(path)
        if above:
            return above
        mode = os.stat(path).st_mode
        need = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
        if mode & need != need:
            return path
    return None


def _untraversable(path: str) -> str | None:
    """The first folder above ``path`` that other users cannot pass through (no o+x), or None."""
    parts = os.path.realpath(path).split(os.sep)
    for depth in range(1, len(parts)):
        above = os.sep.join(parts[:depth]) or os.sep
        if not os.stat(above).st_mode & stat.S_IXOTH:
            return above
    return None


def own_user_hint(exc: BaseException) -> str:
    """Where ``own-user`` is in force in this process (a kernel's) and ``exc`` is, or was raised from, a
    PermissionError on a file: a line that names what is closed to other users (the file, or the folder on the way)
    and, for a file in a kernel folder, the fix, in the author's words; "" otherwise. Only the kernel folders' paths
    are checked for the session (``_own_user``), so this is how a kernel whose own files are closed hears about it,
    at its import or later. Elsewhere (root's home, say) no chmod is suggested: opening that is not the fix."""
    if not (_DONE and "own-user" in _DONE[0].in_force):
        return ""
    denied = _permission_error(exc)
    if denied is None:
        return ""
    path = os.path.abspath(os.fsdecode(denied.filename))
    try:
        closed, fix = _closed_to_me(path)
    except OSError:
        closed, fix = None, ""
    off = "SOLBENCH_OWN_USER=0 keeps kernels as the user who started pytest (a weaker confinement)"
    if closed is None:
        return (f"\n  own-user: this kernel's process runs as a user of its own: it reads what other users may read "
                f"and writes only in its private temp ($TMPDIR), not {path}; {off}")  # fmt: skip
    kernel_dirs = [os.path.abspath(k) for k in _named(KERNEL_DIRS_ENV)]
    if not any(path == k or path.startswith(k.rstrip(os.sep) + os.sep) for k in kernel_dirs):
        return (f"\n  own-user: this kernel's process runs as a user of its own, which reads only what other users "
                f"may, and {closed} is closed to them; {off}")  # fmt: skip
    return (f"\n  own-user: this kernel's process runs as a user of its own, and {closed} is closed to other users: "
            f"make it {'passable' if fix == 'o+x' else 'readable'} by them (chmod {fix} {closed}), or run with "
            f"{off.replace(' keeps', ' to keep')}")  # fmt: skip


def _permission_error(exc: BaseException | None) -> PermissionError | None:
    """The first PermissionError naming a file in ``exc``'s chain (itself, what it was raised from or during)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, PermissionError) and exc.filename is not None:
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _closed_to_me(path: str) -> tuple[str | None, str]:
    """The folder on the way to ``path`` without o+x, or ``path`` itself without o+r (o+rx for a folder), with the
    chmod that opens it; (None, "") where all is open (a write was refused, not a read)."""
    above = _untraversable(path)
    if above:
        return above, "o+x"
    mode = os.stat(path).st_mode
    need, fix = (stat.S_IROTH | stat.S_IXOTH, "o+rx") if stat.S_ISDIR(mode) else (stat.S_IROTH, "o+r")
    return (path, fix) if mode & need != need else (None, "")


def _private_temp(temp: str) -> None:
    for key in ("TMPDIR", "TEMP", "TMP"):
        os.environ[key] = temp
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again
    for key, sub in (("TRITON_CACHE_DIR", "triton"), ("TORCHINDUCTOR_CACHE_DIR", "inductor"),
                     ("TORCH_EXTENSIONS_DIR", "torch_extensions"), ("SOLBENCH_CACHE_DIR", "solbench"),
                     ("CUDA_CACHE_PATH", "nv_compute_cache")):  # fmt: skip  (the driver's PTX JIT cache)
        os.environ[key] = os.path.join(temp, sub)
    sys.pycache_prefix = os.path.join(temp, "pycache")


def _limits(system: Any) -> None:
    system.setrlimit(resource.RLIMIT_CORE, (0, 0))
    system.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_BYTES, FILE_SIZE_BYTES))


def _process_cap(system: Any) -> None:
    """RLIMIT_NPROC at the user's threads now plus ``THREAD_HEADROOM`` (it counts all of the real user's)."""
    threads = system.user_threads()
    if threads is None:
        raise OSError(0, "no /proc to count the user's threads")
    cap = threads + THREAD_HEADROOM
    system.setrlimit(resource.RLIMIT_NPROC, (cap, cap))


def _read_only(system: Any, temp: str, writable: Iterable[str]) -> None:
    """A private mount namespace where all but ``writable`` and /dev, /proc, /sys is read-only. Nothing is made
    read-only unless the namespace is private first (so no change can reach the host's mounts)."""
    system.unshare(CLONE_NEWNS)
    system.mount(None, "/", None, MS_REC | MS_PRIVATE)
    temp = os.path.realpath(temp)
    try:
        sizes = f"mode=700,size={TEMP_BYTES},nr_inodes={TEMP_INODES}"
        system.mount("tmpfs", temp, "tmpfs", MS_NOSUID | MS_NODEV, sizes)
        on_tmpfs = True  # in memory, and gone with the last process of the namespace
    except OSError:
        on_tmpfs = False  # a plain folder on the host's file system, bound writable below
    keep = [os.path.realpath(p) for p in writable if os.path.isdir(p)]
    for path in keep:
        if not (on_tmpfs and path == temp):
            system.mount(path, path, None, MS_BIND | MS_REC)
    kept = tuple(keep) + KEEP_WRITABLE
    for point, options in system.mounts():
        if any(point == k or point.startswith(k.rstrip("/") + "/") for k in kept):
            continue
        try:
            _remount_read_only(system, point, options)
        except OSError:
            if point == "/":
                raise  # a mount we may not touch (already read-only, or locked) is left as it is; not the root


def _remount_read_only(system: Any, point: str, options: str) -> None:
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY
    for option in options.split(","):
        flags |= _KEPT_FLAGS.get(option, 0)
    system.mount(None, point, None, flags)


def _read_only_views(system: Any, views: Sequence[str] = VIEWS) -> None:
    """``views`` and every mount under them read-only (``read-only-proc``); one that stays writable is an error. A
    view that is no mount of its own (``/proc/sys``) is first bound onto itself, with the mounts under it."""
    mounts = list(system.mounts())
    points = {point for point, _ in mounts}
    for view in views:
        if view not in points and os.path.exists(view):
            system.mount(view, view, None, MS_BIND | MS_REC)
            around = max((p for p, _ in mounts if view.startswith(p.rstrip("/") + "/")), key=len, default="/")
            mounts.append((view, dict(mounts).get(around, "rw")))
    for point, options in mounts:
        if any(point == view or point.startswith(view + "/") for view in views):
            try:
                _remount_read_only(system, point, options)
            except OSError as exc:
                if "ro" not in options.split(","):
                    raise OSError(exc.errno, f"{point} stays writable: {exc.strerror}") from None


def cuda_nodes() -> tuple[str, ...]:
    """The NVIDIA driver's entries in the machine's ``/dev`` (its device nodes, and the ``nvidia-caps`` folder)."""
    try:
        names = os.listdir(DEV)
    except OSError:
        return ()
    return tuple(sorted(n for n in names if n.startswith(CUDA_DEV)))


def _private_dev(system: Any, temp: str, extra: Sequence[str] = ()) -> None:
    """A ``/dev`` of this namespace's own (``private-dev``): a small tmpfs made in the private temp, the allowed
    nodes (and ``extra``: a CUDA kernel's driver nodes) and the machine's ``/dev/shm`` bound into it, made
    read-only, then moved over ``/dev``. Writing to a device node does not need a writable mount."""
    stage = os.path.join(os.path.realpath(temp), ".dev")
    os.mkdir(stage, 0o755)
    system.mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k")
    try:
        for name in (*DEV_NODES, *extra):
            source, target = os.path.join(DEV, name), os.path.join(stage, name)
            if os.path.isdir(source) and not os.path.islink(source):
                os.mkdir(target, 0o755)
                system.mount(source, target, None, MS_BIND | MS_REC)
            elif os.path.exists(source):
                open(target, "w").close()
                system.mount(source, target, None, MS_BIND)
        if os.path.isdir("/dev/shm"):
            os.mkdir(os.path.join(stage, "shm"), 0o1777)
            system.mount("/dev/shm", os.path.join(stage, "shm"), None, MS_BIND | MS_REC)
        for name, target in DEV_LINKS.items():
            os.symlink(target, os.path.join(stage, name))
        system.mount(None, stage, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC)
        system.mount(stage, "/dev", None, MS_MOVE)
    except OSError:
        system.umount(stage)
        raise
    with contextlib.suppress(OSError):
        os.rmdir(stage)  # empty once moved; in the private temp, which goes with the process anyway


def _private_shm(system: Any, shared: Iterable[str]) -> None:
    """A tmpfs of this namespace's own over /dev/shm, with the judge's folders for this process under /dev/shm
    bound back at their paths (from descriptors opened before they were covered). All or nothing: a bind that fails
    takes the tmpfs away again."""
    shm = os.path.realpath("/dev/shm")
    if not os.path.isdir(shm):
        raise OSError(2, "no /dev/shm here")
    keep = [os.path.realpath(p) for p in shared if os.path.isdir(p)]
    keep = [p for p in keep if p.startswith(shm + os.sep)]
    fds = [os.open(p, os.O_RDONLY | os.O_DIRECTORY) for p in keep]
    try:
        system.mount("tmpfs", shm, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={SHM_BYTES}")
        try:
            for path, fd in zip(keep, fds):
                os.makedirs(path, mode=0o700, exist_ok=True)
                system.mount(f"/proc/self/fd/{fd}", path, None, MS_BIND)
        except OSError:
            system.umount(shm)
            raise
    finally:
        for fd in fds:
            os.close(fd)

"""OS confinement of a kernel's worker: the real path where this machine permits it (always in a child process,
never in the test's own), a fake system where it does not, and the plugin's header and workers end to end."""

from __future__ import annotations

import errno
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from pytest_solbench.guard import confine, seccomp
from pytest_solbench.worker import shm as shared_memory
from pytest_solbench.guard.confine import MS_BIND, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT, Confinement

ROOT = Path(__file__).resolve().parents[1]
IS_LINUX_ROOT = sys.platform.startswith("linux") and os.geteuid() == 0


class FakeSystem:
    """Records what confinement asks of the system; ``refuse`` names the calls that fail with EPERM."""

    def __init__(self, root: bool = True, refuse: tuple[str, ...] = (), threads: int | None = 100,
                 tasks: list[confine.Task] | None = None, closed: str | None = None) -> None:  # fmt: skip
        self.root, self.refuse, self.threads, self.closed = root, refuse, threads, closed
        self.calls: list[tuple] = []
        self.task_list = tasks if tasks is not None else [task(1)]

    def _maybe_refuse(self, name: str) -> None:
        if name in self.refuse:
            raise OSError(errno.EPERM, "Operation not permitted")

    def is_linux(self) -> bool:
        return True

    def is_root(self) -> bool:
        return self.root

    def unshare(self, flags: int) -> None:
        self.calls.append(("unshare", flags))
        self._maybe_refuse(f"unshare:{flags}")

    def mount(self, source, target, fstype, flags, data=None) -> None:
        self.calls.append(("mount", source, target, fstype, flags))
        self._maybe_refuse("tmpfs" if fstype == "tmpfs" else "private" if flags & MS_PRIVATE else "mount")

    def mounts(self) -> list[tuple[str, str]]:
        return [("/", "rw,relatime"), ("/dev", "rw,nosuid"), ("/dev/shm", "rw"), ("/proc", "rw"),
                ("/proc/sys/fs/binfmt_misc", "rw,relatime"), ("/sys", "rw,nosuid"), ("/sys/fs/cgroup", "rw,nodev"),
                ("/home", "rw,nosuid,nodev")]  # fmt: skip

    def umount(self, target: str) -> None:
        self.calls.append(("umount", target))

    def setrlimit(self, which: int, limits: tuple[int, int]) -> None:
        self.calls.append(("setrlimit", which, limits))

    def user_threads(self) -> int | None:
        return self.threads

    def limit_privileges(self) -> None:
        self.calls.append(("limit_privileges",))
        self._maybe_refuse("caps")

    def drop_capabilities(self) -> None:
        self.calls.append(("drop_capabilities",))
        self._maybe_refuse("caps")

    def deny_namespaces(self) -> None:
        self.calls.append(("deny_namespaces",))
        self._maybe_refuse("seccomp")

    def closed_to_others(self, paths, through=(), trees=(), skip=()) -> str | None:
        return self.closed

    def share_folder(self, path: str, uid: int) -> None:
        self.calls.append(("share_folder", path, uid))

    def chown(self, path: str, uid: int) -> None:
        self.calls.append(("chown", path, uid))

    def become(self, uid: int) -> None:
        self.calls.append(("become", uid))
        self._maybe_refuse("become")
        self.root = False

    def tasks(self) -> tuple[int, list[confine.Task]]:
        return self.task_list[0].tid, self.task_list


def task(tid: int, capabilities: int = 0, mnt: str = "mnt:[1]", net: str = "net:[1]") -> confine.Task:
    return confine.Task(tid, f"t{tid}", capabilities, (("mnt", mnt), ("net", net)))


class BindRefused(FakeSystem):
    """Binding a folder back from its descriptor (under /proc) fails."""

    def mount(self, source, target, fstype, flags, data=None) -> None:
        super().mount(source, target, fstype, flags, data)
        if str(source).startswith("/proc/self/fd/"):
            raise OSError(errno.EPERM, "Operation not permitted")


@pytest.fixture
def restored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Confinement changes this process's environment and bytecode prefix: put them back after the test."""
    for key in ("TMPDIR", "TEMP", "TMP", "TRITON_CACHE_DIR", "TORCHINDUCTOR_CACHE_DIR", "TORCH_EXTENSIONS_DIR",
                "SOLBENCH_CACHE_DIR", "CUDA_CACHE_PATH", "TORCHINDUCTOR_COMPILE_THREADS"):
        monkeypatch.setenv(key, os.environ.get(key, ""))
    monkeypatch.setattr(sys, "pycache_prefix", sys.pycache_prefix)
    monkeypatch.setattr(tempfile, "tempdir", tempfile.tempdir)
    return tmp_path


def test_not_root_keeps_what_needs_no_privilege_and_says_why_the_rest_is_missing(restored: Path) -> None:
    system = FakeSystem(root=False)
    result = confine.confine(temp_root=str(restored), system=system)
    assert result.in_force == ("private-temp", "bytecode", "rlimits", "process-cap", "no-userns")
    assert dict(result.missing) == {"network": "needs root on Linux", "ipc": "needs root on Linux",
                                    "read-only-fs": "needs root on Linux", "read-only-proc": "needs root on Linux",
                                    "private-dev": "needs root on Linux",
                                    "private-shm": "needs root on Linux",
                                    "own-user": "runs as the user who started pytest: only root can give it one of "
                                                "its own",
                                    "capabilities": "none to drop: not root"}  # fmt: skip
    assert not any(call[0] in ("unshare", "mount", "drop_capabilities") for call in system.calls)
    temp = result.temp_dir
    assert temp and temp.startswith(str(restored)) and os.path.isdir(temp)
    assert os.environ["TMPDIR"] == temp == tempfile.gettempdir()
    assert os.environ["TRITON_CACHE_DIR"] == os.path.join(temp, "triton")
    assert os.environ["CUDA_CACHE_PATH"] == os.path.join(temp, "nv_compute_cache")  # CUDA starts after confinement
    assert os.environ["TORCHINDUCTOR_COMPILE_THREADS"] == "1"  # no compile workers: no child outlives a call
    assert sys.pycache_prefix == os.path.join(temp, "pycache")
    limits = {call[1]: call[2] for call in system.calls if call[0] == "setrlimit"}
    assert limits[resource.RLIMIT_CORE] == (0, 0)
    assert limits[resource.RLIMIT_FSIZE] == (confine.FILE_SIZE_BYTES,) * 2
    assert limits[resource.RLIMIT_NPROC] == (100 + confine.THREAD_HEADROOM,) * 2
    assert "not in force: network: needs root on Linux" in result.header_line()


def test_as_root_the_namespace_is_made_private_before_anything_is_remounted_read_only(
        restored: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv(confine.OWN_UID_ENV, str(confine.OWN_UID_BASE + 7))  # the user the judge chose
    system = FakeSystem(root=True)
    build = restored / "build"
    build.mkdir()
    (build / "old.o").write_text("")
    result = confine.confine([str(build)], temp_root=str(restored), system=system)
    assert result.in_force == confine.MEASURES and result.missing == ()
    uid = confine.OWN_UID_BASE + 7
    # The bounding set is emptied while root may still do it, the folders it writes are given to its user (what is
    # in them too), then it becomes that user, for whom Linux enforces the process cap; its home is the temp.
    names = [call[0] for call in system.calls]
    assert names.index("limit_privileges") < names.index("chown") < names.index("become") < names.index("setrlimit", names.index("become"))
    assert {("chown", str(build), uid), ("chown", str(build / "old.o"), uid), ("chown", result.temp_dir, uid)} <= set(system.calls)
    assert os.environ["HOME"] == result.temp_dir
    mounts = [call for call in system.calls if call[0] == "mount"]
    assert system.calls.index(("unshare", confine.CLONE_NEWNET)) < system.calls.index(mounts[0])
    assert mounts[0] == ("mount", None, "/", None, MS_REC | MS_PRIVATE)
    assert mounts[1][1:4] == ("tmpfs", os.path.realpath(result.temp_dir), "tmpfs")
    assert ("mount", str(build.resolve()), str(build.resolve()), None, MS_BIND | MS_REC) in mounts
    read_only = {call[2]: call[4] for call in mounts if call[4] & MS_RDONLY}
    # /dev is one of its own (made read-only in the private temp, then moved over the machine's); /proc and /sys,
    # mounts under them included, are read-only too
    stage = os.path.join(os.path.realpath(result.temp_dir), ".dev")
    assert set(read_only) == {"/", "/home", "/proc", "/proc/sys/fs/binfmt_misc", "/sys", "/sys/fs/cgroup", stage}
    assert ("mount", stage, "/dev", None, confine.MS_MOVE) in mounts
    assert {call[1] for call in mounts if call[2].startswith(stage + "/")} == {
        *(f"/dev/{n}" for n in confine.DEV_NODES if os.path.exists(f"/dev/{n}")), "/dev/shm"}
    assert read_only["/home"] & MS_NOSUID and read_only["/"] & MS_REMOUNT and read_only["/sys/fs/cgroup"] & confine.MS_NODEV
    assert system.calls.index(("drop_capabilities",)) > names.index("become")  # nothing above undone after it


def test_a_view_of_the_host_that_stays_writable_takes_read_only_proc_out_of_force(restored: Path) -> None:
    """Round 11, m01: without a user of its own a kernel's process is root with no capability, and still owns root's
    files in /proc and /sys (the host's core_pattern, cgroups, the judge's oom_score_adj). Where one of those mounts
    cannot be made read-only the measure is not claimed, and the mount is named; one already read-only is fine."""

    class Locked(FakeSystem):
        def mount(self, source, target, fstype, flags, data=None) -> None:
            super().mount(source, target, fstype, flags, data)
            if target in ("/sys/fs/cgroup", "/proc/sys/fs/binfmt_misc") and flags & MS_RDONLY:
                raise OSError(errno.EPERM, "Operation not permitted")

        def mounts(self) -> list[tuple[str, str]]:
            return [(p, "ro" if p == "/proc/sys/fs/binfmt_misc" else o) for p, o in super().mounts()]

    result = confine.confine(temp_root=str(restored), system=Locked(root=True))
    assert dict(result.missing) == {"read-only-proc": "/sys/fs/cgroup stays writable: Operation not permitted"}
    assert "read-only-fs" in result.in_force


def test_as_root_a_user_of_its_own_only_where_everything_it_reads_is_open_to_others(restored: Path) -> None:
    system = FakeSystem(root=True, closed="/root")
    result = confine.confine(temp_root=str(restored), read=["/root/mine"], system=system)
    missing = dict(result.missing)
    assert missing["own-user"].startswith("/root is closed to other users (a kernel's process runs as a user of its own")
    assert missing["process-cap"] == "Linux does not enforce RLIMIT_NPROC for root, as kernels run here"
    assert "capabilities" in result.in_force and not any(c[0] in ("chown", "become") for c in system.calls)
    system = FakeSystem(root=True, refuse=("become",))
    result = confine.confine(temp_root=str(restored), system=system)
    assert dict(result.missing)["own-user"] == "Operation not permitted" and "capabilities" in result.in_force


def test_own_user_can_be_turned_off(restored: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(confine.OWN_USER_ENV, "0")
    system = FakeSystem(root=True)
    result = confine.confine(temp_root=str(restored), system=system)
    assert dict(result.missing)["own-user"] == "turned off (SOLBENCH_OWN_USER=0)"
    assert not any(call[0] == "become" for call in system.calls) and "capabilities" in result.in_force


def test_closed_to_others_names_the_first_folder_a_stranger_cannot_pass(open_temp: Path) -> None:
    if confine.closed_to_others([str(open_temp)], through=[str(open_temp)]) not in (None, str(open_temp)):
        pytest.skip(f"the temp folder's own parents are closed here: {tempfile.gettempdir()}")
    shut = open_temp / "shut"
    (shut / "inner").mkdir(parents=True)
    (shut / "inner" / "k.py").write_text("")
    os.chmod(shut / "inner", 0o755)
    os.chmod(shut / "inner" / "k.py", 0o644)
    os.chmod(shut, 0o700)
    assert confine.closed_to_others([str(shut / "inner" / "k.py")]) == str(shut)
    assert confine.closed_to_others([], through=[str(shut / "inner")]) == str(shut)
    os.chmod(shut, 0o711)  # passable, not listable: fine on the way, not as a folder read itself
    assert confine.closed_to_others([str(shut / "inner" / "k.py")]) is None
    assert confine.closed_to_others([str(shut)]) == str(shut)
    assert confine.closed_to_others([str(open_temp / "absent")]) is None
    os.chmod(shut, 0o755)
    (shut / "inner" / "secret.txt").write_text("")
    os.chmod(shut / "inner" / "secret.txt", 0o600)  # a data file beside a kernel, closed: own-user would break it
    assert confine.closed_to_others([], trees=[str(shut)]) == str(shut / "inner" / "secret.txt")


# ---------------------------------------------------------------- red-team round 6: a kernel's files and own-user


class FilesChecked(FakeSystem):
    """The real check of what is open to other users, over everything but this interpreter's own path (which may
    live under /root here, and is not what these tests are about)."""

    def closed_to_others(self, paths, through=(), trees=(), skip=()) -> str | None:
        return confine.closed_to_others([p for p in paths if p not in sys.path], through, trees, skip)


def _tree(top: Path, files: dict[str, int]) -> None:
    """Files (relative path: mode) under ``top``, every folder on the way 0755."""
    for rel, mode in files.items():
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_text("")
        os.chmod(top / rel, mode)
    for folder in sorted({p for rel in files for p in (top / rel).parents if top in p.parents or p == top}):
        os.chmod(folder, 0o755)


def test_a_closed_file_in_a_kernel_folder_leaves_own_user_in_force_for_the_session(
        restored: Path, open_temp: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Red-team round 6 (g10, g12): a 0600 file beside one kernel kept every kernel's process root (the session
    walked all kernel folders), and round 5's escapes worked again. The session now checks only the way to each
    kernel folder; problem folders and the blob root are still walked, a kernel folder inside one left out."""
    if confine.closed_to_others([], through=[str(open_temp / "kernels")]) is not None:
        pytest.skip(f"the temp folder's own parents are closed here: {tempfile.gettempdir()}")
    monkeypatch.setenv(confine.OWN_UID_ENV, str(confine.OWN_UID_BASE + 7))
    _tree(open_temp, {"kernels/cheat/k.py": 0o644, "kernels/cheat/tuned.json": 0o600, "kernels/honest/h.py": 0o644,
                      "problems/p/definition.json": 0o644, "problems/p/kernels/tuned.json": 0o600})  # fmt: skip
    kernels, problems = str(open_temp / "kernels"), str(open_temp / "problems")
    env = confine.read_env([Path(kernels), open_temp / "problems" / "p" / "kernels"], [Path(problems)])
    assert env == {confine.READ_ENV: problems, confine.KERNEL_DIRS_ENV: os.pathsep.join(
        [kernels, str(open_temp / "problems" / "p" / "kernels")])}  # fmt: skip

    def own_user(**folders: list[str]) -> str | None:
        result = confine.confine(temp_root=str(open_temp), system=FilesChecked(root=True), **folders)
        return None if "own-user" in result.in_force else dict(result.missing)["own-user"]

    assert own_user(read=[problems], kernel_dirs=env[confine.KERNEL_DIRS_ENV].split(os.pathsep)) is None
    # The old split (kernel folders walked as trees) is what the cheat used: the same files refuse it.
    assert own_user(read=[kernels, problems]).startswith(f"{open_temp}/kernels/cheat/tuned.json is closed")
    assert own_user(read=[problems]).startswith(f"{open_temp}/problems/p/kernels/tuned.json is closed")
    os.chmod(open_temp / "problems" / "p" / "kernels" / "tuned.json", 0o644)
    os.chmod(open_temp / "problems" / "p" / "definition.json", 0o600)  # the problem's own file: the user's to open
    assert own_user(read=[problems], kernel_dirs=[kernels]).startswith(f"{open_temp}/problems/p/definition.json")
    os.chmod(open_temp / "problems" / "p" / "definition.json", 0o644)
    # A kernel folder named on the command line may be one author's, and closed by them: it fails its own kernels,
    # never the measure for the session (round 12, n07: a 0700 folder kept every kernel's process root, strict too).
    for mode in (0o711, 0o700):
        os.chmod(open_temp / "kernels", mode)
        assert own_user(read=[problems], kernel_dirs=[kernels]) is None
    # The way to it is the user's choice, and is still checked.
    assert own_user(kernel_dirs=[str(open_temp / "kernels" / "honest")]).startswith(f"{kernels} is closed")


def test_own_user_hint_names_what_is_closed_and_the_fix(open_temp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a kernel whose own file is closed is told, at its import or later, where own-user is in force."""
    _tree(open_temp, {"k/tuned.json": 0o600, "k/open.json": 0o644, "k/shut/inner.json": 0o644, "other/x.json": 0o600})
    os.chmod(open_temp / "k" / "shut", 0o700)
    monkeypatch.setenv(confine.KERNEL_DIRS_ENV, str(open_temp / "k"))
    tuned = str(open_temp / "k" / "tuned.json")
    denied = PermissionError(errno.EACCES, "Permission denied", tuned)
    monkeypatch.setattr(confine, "_DONE", [Confinement(("private-temp", "capabilities"), (("own-user", "off"),))])
    assert confine.own_user_hint(denied) == ""  # not in force: a PermissionError means something else
    monkeypatch.setattr(confine, "_DONE", [Confinement(("private-temp", "own-user", "capabilities"), ())])
    hint = confine.own_user_hint(denied)
    assert f"{tuned} is closed to other users" in hint and f"chmod o+r {tuned}" in hint
    assert "SOLBENCH_OWN_USER=0 to keep kernels as the user who started pytest" in hint
    elsewhere = str(open_temp / "other" / "x.json")  # not the kernel's own file (root's home, say): no chmod advised
    hint_elsewhere = confine.own_user_hint(PermissionError(errno.EACCES, "Permission denied", elsewhere))
    assert f"{elsewhere} is closed to them" in hint_elsewhere and "chmod" not in hint_elsewhere
    try:  # as the loader wraps it: found through the chain
        try:
            raise denied
        except PermissionError as exc:
            raise RuntimeError("importing k.py failed") from exc
    except RuntimeError as wrapped:
        assert confine.own_user_hint(wrapped) == hint
    shut = str(open_temp / "k" / "shut")
    inner = PermissionError(errno.EACCES, "Permission denied", os.path.join(shut, "inner.json"))
    assert f"{shut} is closed to other users: make it passable by them (chmod o+x {shut})" in confine.own_user_hint(inner)
    written = PermissionError(errno.EACCES, "Permission denied", str(open_temp / "k" / "open.json"))
    assert "writes only in its private temp" in confine.own_user_hint(written)  # open to read: a write was refused
    assert confine.own_user_hint(PermissionError(errno.EPERM, "Operation not permitted")) == ""  # no file named
    assert confine.own_user_hint(ValueError("x")) == ""


def test_a_namespace_that_cannot_be_made_private_is_never_remounted(restored: Path) -> None:
    system = FakeSystem(root=True, refuse=("private", f"unshare:{confine.CLONE_NEWNET}"))
    result = confine.confine(temp_root=str(restored), system=system)
    assert dict(result.missing) == {"network": "Operation not permitted", "read-only-fs": "Operation not permitted",
                                    "read-only-proc": "needs the mount namespace of read-only-fs",
                                    "private-dev": "needs the mount namespace of read-only-fs",
                                    "private-shm": "needs the mount namespace of read-only-fs"}
    assert not any(call[0] == "mount" and call[4] & MS_RDONLY for call in system.calls)
    assert result.in_force == ("private-temp", "bytecode", "rlimits", "process-cap", "ipc", "own-user", "capabilities",
                              "no-userns")


def test_a_temp_folder_without_tmpfs_is_bound_writable_and_no_proc_means_no_thread_cap(restored: Path) -> None:
    system = FakeSystem(root=True, refuse=("tmpfs",))
    result = confine.confine(temp_root=str(restored), system=system)
    temp = os.path.realpath(result.temp_dir)
    assert ("mount", temp, temp, None, MS_BIND | MS_REC) in system.calls
    system = FakeSystem(root=False, threads=None)
    result = confine.confine(temp_root=str(restored), system=system)
    assert dict(result.missing)["process-cap"] == "no /proc to count the user's threads"
    assert not any(call[0] == "setrlimit" and call[1] == resource.RLIMIT_NPROC for call in system.calls)


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no /dev/shm here")
def test_a_private_shm_covers_dev_shm_and_binds_back_only_the_judges_folders_for_this_process(restored: Path) -> None:
    shm = os.path.realpath("/dev/shm")
    mine = tempfile.mkdtemp(prefix="solbench-test-shared-", dir=shm)
    try:
        system = FakeSystem(root=True)
        result = confine.confine(temp_root=str(restored), shared=[mine, str(restored)], system=system)
        assert "private-shm" in result.in_force
        mounts = [call for call in system.calls if call[0] == "mount"]
        tmpfs = mounts.index(("mount", "tmpfs", shm, "tmpfs", MS_NOSUID | confine.MS_NODEV))
        bind = mounts[tmpfs + 1]
        assert bind[0:1] + bind[2:] == ("mount", mine, None, MS_BIND) and bind[1].startswith("/proc/self/fd/")
        assert len(mounts) == tmpfs + 2  # the folder in the temp folder is not under /dev/shm: kept writable only
        assert ("mount", str(restored.resolve()), str(restored.resolve()), None, MS_BIND | MS_REC) in mounts

        failing = BindRefused(root=True)
        result = confine.confine(temp_root=str(restored), shared=[mine], system=failing)
        assert dict(result.missing)["private-shm"] == "Operation not permitted"
        assert ("umount", shm) in failing.calls  # all or nothing: the tmpfs is taken away again
    finally:
        os.rmdir(mine)


def test_header_lines() -> None:
    assert Confinement(("rlimits",), ()).header_line() == "solbench: kernels confined: rlimits"
    assert Confinement((), (("network", "needs root"),)).header_line() == (
        "solbench: WARNING kernels run unconfined (network: needs root)")
    back = Confinement.from_json(Confinement(("a",), (("b", "why"),), "/t").to_json())
    assert back == Confinement(("a",), (("b", "why"),), "/t")


def test_without_folders_named_by_the_judge_dev_shm_is_left_as_it_is(restored: Path) -> None:
    system = FakeSystem(root=True)
    result = confine.confine(temp_root=str(restored), shared=None, system=system)
    assert dict(result.missing)["private-shm"] == "the judge named no folders of its own for this process"
    assert not any(call[0] == "mount" and call[3] == "tmpfs" and call[2].endswith("shm") for call in system.calls)


def test_a_cuda_kernels_process_keeps_the_judges_dev_shm_and_user(restored: Path) -> None:
    """Under a private /dev/shm, or as a user of its own, every CUDA IPC handle of the judge failed to open
    (cudaErrorMapBufferObjectFailed, the first GPU run of the judge): a CUDA kernel's process keeps the machine's
    /dev/shm and the judge's user, and the header says why."""
    shm = os.path.realpath("/dev/shm")
    system = FakeSystem(root=True)
    result = confine.confine(temp_root=str(restored), shared=[str(restored)], system=system, cuda=True)
    assert dict(result.missing)["private-shm"] == confine.CUDA_SHM
    assert dict(result.missing)["own-user"] == confine.CUDA_OWN_USER
    assert "read-only-fs" in result.in_force and "ipc" in result.in_force  # the other measures stand
    assert not any(call[0] == "mount" and call[2] == shm for call in system.calls)


def test_for_kernel_does_nothing_outside_the_plugins_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(confine.ENV_ON, raising=False)
    assert confine.for_kernel() is None  # e.g. --solbench-isolate none: this very process runs the kernel


REAL = """
import json, os, socket, subprocess, sys
sys.path.insert(0, {root!r})
from pytest_solbench.guard.confine import confine
result = confine(temp_root={temp!r}, shared=[{mine!r}])
print("confined", flush=True)
given = sys.stdin.readline().strip()  # a file the judge made in this process's shared folder, after confinement
facts = {{"result": result.to_json()}}
facts["neighbour"] = os.path.exists({neighbour!r})
for name, path, mode in (("outside", {outside!r}, "w"), ("private", os.path.join(result.temp_dir, "x"), "w"),
                         ("given", given, "r+b"), ("mine_new", os.path.join({mine!r}, "x"), "w")):
    try:
        with open(path, mode) as handle:
            handle.write(b"written" if "b" in mode else "")
        facts[name] = "wrote"
    except OSError as exc:
        facts[name] = exc.strerror
try:
    socket.create_connection(("127.0.0.1", 9), timeout=2)
    facts["network"] = "connected"
except OSError as exc:
    facts["network"] = exc.strerror
facts["capabilities"] = open("/proc/self/status").read().split("CapEff:")[1].split()[0]
facts["uid"] = os.getuid()
facts["dev"] = sorted(os.listdir("/dev"))
try:
    open("/dev/null", "w").write("x")
    facts["dev_null"] = "wrote"
except OSError as exc:
    facts["dev_null"] = exc.strerror
adj = "/proc/%d/oom_score_adj" % os.getppid()  # the judge's: its value written back unchanged, were it allowed
try:
    value = open(adj).read()
    with open(adj, "w") as handle:
        handle.write(value)
    facts["judge_oom"] = "wrote"
except OSError as exc:
    facts["judge_oom"] = exc.strerror
try:
    os.kill(os.getppid(), 0)
    facts["signal_parent"] = "allowed"
except OSError as exc:
    facts["signal_parent"] = exc.strerror
made = subprocess.run(["ipcmk", "-M", "4096"], capture_output=True, text=True) if os.path.exists("/usr/bin/ipcmk") else None
facts["sysv"] = made.stdout.split()[-1] if made is not None and made.returncode == 0 else None
print(json.dumps(facts))
"""


def _open_interpreter() -> str:
    """This interpreter, or the system's where this one lives in a folder closed to other users (a pyenv under
    /root): the child needs only the standard library and the plugin, and own-user needs a Python others can read."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        try:
            paths = json.loads(subprocess.run([candidate, "-c", "import json, sys; print(json.dumps(sys.path))"],
                                              capture_output=True, text=True, timeout=60).stdout)  # fmt: skip
        except (OSError, ValueError, subprocess.SubprocessError):
            continue
        if confine.closed_to_others([p for p in paths if p]) is None:
            return candidate
    return sys.executable


def _python_path_open(cwd: Path) -> bool:
    """Whether this interpreter's own path, as a process started in ``cwd`` sees it, is open to other users."""
    paths = json.loads(subprocess.run([sys.executable, "-c", "import json, sys; print(json.dumps(sys.path))"], cwd=cwd,
                                      capture_output=True, text=True, timeout=60, check=True).stdout)  # fmt: skip
    return confine.closed_to_others([p or str(cwd) for p in paths]) is None


@pytest.fixture
def open_temp() -> Iterator[Path]:
    """A folder other users may pass through (pytest's own are closed), as the plugin makes for kernels' temps."""
    folder = Path(tempfile.mkdtemp(prefix="solbench-test-open-"))
    os.chmod(folder, 0o711)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="confinement is Linux only")
def test_the_real_confinement_in_a_child_process(open_temp: Path) -> None:
    outside = open_temp / "outside" / "written"
    outside.parent.mkdir(mode=0o777)
    os.chmod(outside.parent, 0o777)  # open to anyone: only the read-only file system stops the write
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else str(open_temp)
    mine, neighbour = (tempfile.mkdtemp(prefix="solbench-test-", dir=shm) for _ in range(2))
    try:
        code = REAL.format(root=str(ROOT), temp=str(open_temp), outside=str(outside), mine=mine, neighbour=neighbour)
        child = subprocess.Popen([_open_interpreter(), "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)  # fmt: skip
        assert child.stdout.readline().strip() == "confined", child.stderr.read()[-2000:]
        fd, given = tempfile.mkstemp(prefix="solbench-", dir=mine)  # as the judge's Arena makes a shared tensor
        shared_memory._owned_like(fd, mine)
        os.close(fd)
        out, err = child.communicate(given + "\n", timeout=120)
        facts = json.loads(out.strip().splitlines()[-1])
        wrote_given = Path(given).read_bytes()
    finally:
        for folder in (mine, neighbour):
            shutil.rmtree(folder, ignore_errors=True)
    result = Confinement.from_json(facts["result"])
    assert facts["private"] == "wrote" and facts["given"] == "wrote" and wrote_given == b"written"  # the judge sees it
    if not IS_LINUX_ROOT or result.in_force != confine.MEASURES:  # not permitted here: it says why, not pretends
        assert result.missing
        if "read-only-fs" in dict(result.missing):
            assert facts["outside"] == "wrote"
        pytest.skip(f"this machine does not permit full confinement: {result.header_line()}")
    assert result.missing == ()
    assert facts["uid"] >= confine.OWN_UID_BASE and facts["signal_parent"] == "Operation not permitted"
    assert facts["mine_new"] == "Permission denied"  # the judge's folder: its files open, no file of its own made
    assert facts["sysv"] is None or facts["sysv"] not in subprocess.run(["ipcs", "-m"], capture_output=True,
                                                                      text=True).stdout  # its own IPC namespace
    assert facts["outside"] == "Read-only file system" and not outside.exists()
    assert facts["network"] == "Network is unreachable"
    assert int(facts["capabilities"], 16) == 0
    assert facts["neighbour"] is (shm != "/dev/shm")  # another kernel's folder in /dev/shm: not there
    assert facts["judge_oom"] == "Read-only file system"


@pytest.mark.skipif(not IS_LINUX_ROOT, reason="the mount namespace needs root on Linux")
def test_root_without_capabilities_writes_nothing_of_the_host_through_proc_and_sys(open_temp: Path,
                                                                                   monkeypatch) -> None:  # fmt: skip
    """Round 11, m01: where a kernel's process keeps root's user (own-user off, as for CUDA kernels) it owns root's
    files in /proc and /sys; both are read-only in its mount namespace, so the judge's oom_score_adj (and the host's
    settings beside it) cannot be written."""
    monkeypatch.setenv(confine.OWN_USER_ENV, "0")
    shm = tempfile.mkdtemp(prefix="solbench-test-", dir=str(open_temp))
    code = REAL.format(root=str(ROOT), temp=str(open_temp), outside=str(open_temp / "x"), mine=shm, neighbour=shm)
    child = subprocess.run([sys.executable, "-c", code], input="/nonexistent\n", capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    facts = json.loads(child.stdout.strip().splitlines()[-1])
    result = Confinement.from_json(facts["result"])
    if "read-only-proc" not in result.in_force:
        pytest.skip(f"this machine does not permit it: {dict(result.missing)['read-only-proc']}")
    assert facts["uid"] == 0 and int(facts["capabilities"], 16) == 0
    assert facts["judge_oom"] == "Read-only file system"
    if "private-dev" in result.in_force:  # round 12, n03: the machine's /dev/kmsg, ttys and block devices are gone
        assert set(facts["dev"]) <= {*confine.DEV_NODES, *confine.DEV_LINKS, "shm"} and facts["dev_null"] == "wrote"


def test_a_cuda_kernels_process_gets_sys_and_the_hosts_settings_read_only_and_its_threads_names_writable(
        restored: Path) -> None:
    """Session 11's first GPU run: the CUDA driver names its threads through /proc/self/task/<tid>/comm and failed its
    first call under a read-only /proc (error 304, H100, driver 580). A CUDA kernel's process gets /sys and the host's
    settings under /proc read-only (each bound onto itself, with the mounts under it), /proc itself not; the header
    says the measure holds in part."""
    system = FakeSystem(root=True)
    result = confine.confine(temp_root=str(restored), system=system, cuda=True)
    assert dict(result.missing)["read-only-proc"] == confine.CUDA_PROC
    assert "read-only-proc" not in result.in_force
    bound = [c[2] for c in system.calls if c[0] == "mount" and c[1] == c[2] and c[4] == MS_BIND | MS_REC]
    assert bound == [v for v in confine.CUDA_VIEWS if v != "/sys" and os.path.exists(v)]
    remounted = {c[2] for c in system.calls if c[0] == "mount" and c[4] & MS_REMOUNT and c[4] & MS_RDONLY}
    assert {"/sys", "/sys/fs/cgroup", "/proc/sys", "/proc/sys/fs/binfmt_misc"} <= remounted
    assert "/proc" not in remounted


CUDA_PROC_CHILD = """
import json, os, sys
sys.path.insert(0, {root!r})
from pytest_solbench.guard import confine
result = confine.confine(temp_root={temp!r}, cuda=True)


def opened(path):  # for writing, and closed at once: nothing is ever written to the host's settings
    try:
        os.close(os.open(path, os.O_WRONLY))
        return "opened"
    except OSError as exc:
        return exc.strerror


CGROUPS = ("/sys/fs/cgroup/cgroup.procs", "/sys/fs/cgroup/cpu/cgroup.procs", "/sys/fs/cgroup/memory/cgroup.procs")
comm = f"/proc/self/task/{{os.getpid()}}/comm"
name = open(comm).read().strip()
with open(comm, "w") as handle:  # what the CUDA driver does for each thread it starts
    handle.write(name)
print(json.dumps({{"result": result.to_json(), "comm": opened(comm), "core_pattern": opened("/proc/sys/kernel/core_pattern"),
                  "sysrq": opened("/proc/sysrq-trigger"), "cgroup": [opened(p) for p in CGROUPS if os.path.exists(p)]}}))
"""


@pytest.mark.skipif(not IS_LINUX_ROOT, reason="the mount namespace needs root on Linux")
def test_a_confined_cuda_process_names_its_threads_and_writes_none_of_the_hosts_settings(open_temp: Path) -> None:
    child = subprocess.run([sys.executable, "-c", CUDA_PROC_CHILD.format(root=str(ROOT), temp=str(open_temp))],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert child.returncode == 0, child.stderr[-2000:]
    facts = json.loads(child.stdout.strip().splitlines()[-1])
    missing = dict(Confinement.from_json(facts["result"]).missing)
    if missing.get("read-only-proc") != confine.CUDA_PROC:
        pytest.skip(f"this machine does not permit it: {missing.get('read-only-proc')}")
    assert facts["comm"] == "opened"
    assert facts["core_pattern"] == "Read-only file system"
    assert facts["sysrq"] in ("Read-only file system", "No such file or directory")  # not every kernel has one
    assert set(facts["cgroup"]) <= {"Read-only file system"}


PROBE_KERNEL = '''"""Reports what its worker may do, by failing with it."""
import os

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
SOLBENCH_ALLOW = {{"file-network-os": "the test reads what its worker may do"}}


def run(hidden_states, weight):
    try:
        open({outside!r}, "w").close()
        wrote = "wrote"
    except OSError as exc:
        wrote = exc.strerror
    caps = set()
    for tid in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{{tid}}/status") as handle:
            caps |= {{line.split()[1] for line in handle if line.startswith("CapEff")}}
    threads = len(os.listdir("/proc/self/task"))
    raise RuntimeError(f"outside={{wrote}} tmp={{os.environ.get('TMPDIR')}} threads={{threads}} caps={{sorted(caps)}}")
'''


SWAP_KERNEL = '''"""Honest source, whose helper's __pycache__ holds other code (see swap_helper)."""
import swap_helper

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight):
    x = hidden_states.float()
    out = x * (x.pow(2).mean(-1, keepdim=True) + 1e-5).rsqrt() * weight.float() * swap_helper.scale()
    return out.to(hidden_states.dtype)
'''
HONEST_HELPER = "def scale():\n    return 1.0\n"
CHEAT_HELPER = "def scale():\n    return 0.0\n"  # same length: the pyc's header matches the honest source


def swapped_pycache(folder: Path) -> None:
    """A __pycache__ whose pyc, compiled from other code, carries the honest source's mtime and size: Python
    loads it in place of the source, and the static rules (which read the source) see nothing."""
    import importlib.util
    import py_compile

    source = folder / "swap_helper.py"
    source.write_text(HONEST_HELPER)
    cheat = folder.parent / "cheat_src" / "swap_helper.py"
    cheat.parent.mkdir()
    cheat.write_text(CHEAT_HELPER)
    stat = source.stat()
    os.utime(cheat, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    py_compile.compile(str(cheat), cfile=importlib.util.cache_from_source(str(source)), doraise=True)


def test_a_swapped_pycache_is_real_without_confinement_and_never_read_with_it(tmp_path: Path) -> None:
    swapped_pycache(tmp_path)
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import swap_helper; print(swap_helper.scale())"
    plain = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert plain.stdout.strip() == "0.0"  # the trick works on a plain interpreter
    confined = REAL_PREFIX.format(root=str(ROOT), temp=str(tmp_path)) + code
    done = subprocess.run([sys.executable, "-c", confined], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "1.0", done.stderr  # the source is compiled afresh into the private prefix


REAL_PREFIX = "import sys; sys.path.insert(0, {root!r}); from pytest_solbench.guard.confine import confine; " \
              "confine(temp_root={temp!r}); "


def test_the_plugin_confines_each_kernel_worker_and_says_so_in_the_header(pytester: pytest.Pytester) -> None:
    outside = pytester.path / "outside.txt"
    (pytester.path / "kernels").mkdir()
    (pytester.path / "kernels" / "probe.py").write_text(PROBE_KERNEL.format(outside=str(outside)))
    (pytester.path / "kernels" / "swap.py").write_text(SWAP_KERNEL)
    swapped_pycache(pytester.path / "kernels")
    problem = ROOT / "problems" / "llama3_1_8b_rmsnorm_h4096" / "definition.json"
    result = pytester.runpytest_subprocess(str(problem), "--solbench", "--solbench-device", "cpu", "--kernel-dir",
                                           "kernels", "-p", "no:randomly", "-p", "no:cacheprovider",
                                           "--solbench-rounds", "1", "-k", "num_tokens:7]", timeout=1800)  # fmt: skip
    header = [line for line in result.outlines if "confined" in line]
    assert len(header) == 1, result.outlines[:12]
    result.assert_outcomes(failed=1, passed=1)  # the probe fails by design; the swapped pyc was never read
    text = result.stdout.str()
    assert "solbench-kernel-" in text.split("tmp=")[1].split()[0]  # a temp folder of its own
    if IS_LINUX_ROOT and "read-only-fs" in header[0].split("not in force")[0] and "unconfined" not in header[0]:
        assert "outside=Read-only file system" in text and not outside.exists()
        assert "caps=['0000000000000000']" in text  # every thread, ATen's pool included (red-team round 3, c06)
    else:
        assert "outside=wrote" in text


HONEST_RMS = '''"""Honest RMSNorm."""
DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * (x.pow(2).mean(-1, keepdim=True) + 1e-5).rsqrt() * weight.float()).to(hidden_states.dtype)
'''
CLOSED_AT_IMPORT = HONEST_RMS.replace('"""Honest RMSNorm."""', '"""Imports a helper closed to others."""\nimport tuned_at_import')
CLOSED_LATER = '''"""Reads a tuning file closed to others on its first call."""
import json
from pathlib import Path

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
SOLBENCH_ALLOW = {"unlisted-import": "reads its tuned block sizes", "file-network-os": "reads its tuned block sizes"}


def run(hidden_states, weight):
    json.loads(Path(__file__).with_name("tuned_later.json").read_text())
    x = hidden_states.float()
    return (x * (x.pow(2).mean(-1, keepdim=True) + 1e-5).rsqrt() * weight.float()).to(hidden_states.dtype)
'''


def test_a_kernel_whose_own_file_is_closed_fails_its_items_and_no_other_kernels(open_temp: Path) -> None:
    """Red-team round 6 (g10, g12): a 0600 file beside one kernel turned own-user off for the whole session. Now
    own-user stays in force (the header says so), the honest kernel beside it passes, and each kernel that meets a
    file of its own closed to other users fails its items with the file named and the fix, at its import
    (COMPILE_ERROR) or on a call (RUNTIME_ERROR)."""
    os.chmod(open_temp, 0o755)  # pytest's folder here, and on its Python path: readable as a whole
    kernels = open_temp / "kernels"
    _tree(kernels, {"honest/honest_rms.py": 0o644, "at_import/closed_import.py": 0o644,
                    "at_import/tuned_at_import.py": 0o600, "later/closed_later.py": 0o644,
                    "later/tuned_later.json": 0o600})  # fmt: skip
    (kernels / "honest" / "honest_rms.py").write_text(HONEST_RMS)
    (kernels / "at_import" / "closed_import.py").write_text(CLOSED_AT_IMPORT)
    (kernels / "later" / "closed_later.py").write_text(CLOSED_LATER)
    (kernels / "at_import" / "tuned_at_import.py").write_text("SCALE = 1.0\n")
    (kernels / "later" / "tuned_later.json").write_text('{"block": 128}\n')
    problem = ROOT / "problems" / "llama3_1_8b_rmsnorm_h4096" / "definition.json"
    env = {k: v for k, v in os.environ.items() if k != confine.OWN_USER_ENV}
    done = subprocess.run([sys.executable, "-m", "pytest", str(problem), "--solbench", "--solbench-device", "cpu",
                           "--kernel-dir", str(kernels), "-p", "no:randomly", "-p", "no:cacheprovider",
                           "--solbench-rounds", "1", "-k", "num_tokens:7]"], cwd=open_temp, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    out = done.stdout + done.stderr
    header = [line for line in out.splitlines() if line.startswith("solbench:") and "confined" in line]
    assert len(header) == 1, out[-3000:]
    refused = re.search(r"own-user: ([^;]*)", header[0])
    if refused and not (IS_LINUX_ROOT and "closed to other users" in refused[1] and _python_path_open(open_temp)):
        pytest.skip(f"own-user cannot apply here: {refused[1]}")  # not root, or this Python lives under /root
    assert refused is None, header[0]  # the closed files beside two kernels left it in force for the session
    assert done.returncode == 1, out[-3000:]
    assert re.search(r"\b1 passed\b", out) and re.search(r"\b2 failed\b", out), out[-3000:]
    closed_import, closed_later = (str(kernels / name) for name in ("at_import/tuned_at_import.py", "later/tuned_later.json"))
    for kernel, status in (("honest_rms", "PASSED"), ("closed_import", "COMPILE_ERROR"), ("closed_later", "RUNTIME_ERROR")):
        assert re.search(rf"num_tokens:7\s+{kernel}\s+{status}\b", out), out[-3000:]  # the summary table's row
    for path in (closed_import, closed_later):
        assert f"{path} is closed to other users: make it readable by them (chmod o+r {path})" in out, out[-3000:]
    assert out.count("SOLBENCH_OWN_USER=0") >= 2


def test_undumpable_closes_the_process_to_its_siblings() -> None:
    """Red-team round 1 (sibling mem): kernels' processes, same user, no Yama, could open each other's memory."""
    code = ("import ctypes; from pytest_solbench.guard.confine import undumpable; held = undumpable(); "
            "print(held, ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))")  # PR_GET_DUMPABLE
    if not sys.platform.startswith("linux"):
        pytest.skip("prctl is Linux's")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "0"]


# ---------------------------------------------------------------- red-team round 3: every thread, and the process cap


def test_a_measure_some_thread_does_not_share_is_not_in_force_and_names_the_thread() -> None:
    """Red-team round 3 (c06): namespaces and capabilities are per thread; one started before confinement keeps the
    host's. The check reads every thread and takes out of force what one of them escapes."""
    held = Confinement(("private-temp", "network", "read-only-fs", "private-shm", "capabilities"), (), "/t")
    same = FakeSystem(tasks=[task(10), task(11), task(12)])
    assert confine.threads_checked(held, same) == held
    early = FakeSystem(tasks=[task(10), task(11, capabilities=0x1FF, mnt="mnt:[9]", net="net:[9]"), task(12, net="net:[9]")])
    result = confine.threads_checked(held, early)
    assert result.in_force == ("private-temp",)
    assert result.escaped == ("network", "read-only-fs", "private-shm", "capabilities")
    why = dict(result.missing)
    assert why["capabilities"] == "thread 11 (t11) holds capabilities 0x1ff: it started before the process was confined"
    assert why["network"].startswith("thread 11 (t11) (and 1 more) is in another net namespace (net:[9])")
    assert "capabilities: thread 11" in result.header_line()
    unheld = Confinement(("private-temp",), (("capabilities", "none to drop: not root"),))
    assert confine.threads_checked(unheld, early) == unheld  # nothing was claimed: nothing to take back


def test_a_thread_without_the_seccomp_filter_takes_no_userns_out_of_force() -> None:
    """``Seccomp: 2`` in every thread's status, with no fewer filters than the confining thread's (a container's
    runtime may have put one filter on every thread already); a kernel that does not count filters is believed."""
    def with_filter(tid: int, mode: int = 2, filters: int | None = 1) -> confine.Task:
        plain = task(tid)
        return confine.Task(plain.tid, plain.name, 0, plain.namespaces, mode, filters)

    held = Confinement(("private-temp", "capabilities", "no-userns"), (), "/t")
    assert confine.threads_checked(held, FakeSystem(tasks=[with_filter(10), with_filter(11)])) == held
    assert confine.threads_checked(held, FakeSystem(tasks=[with_filter(10), with_filter(11, filters=None)])) == held
    for early in (with_filter(11, mode=0, filters=0), with_filter(11, filters=0)):  # none, or only a container's
        mine = with_filter(10, filters=early.filters + 1)
        result = confine.threads_checked(held, FakeSystem(tasks=[mine, early]))
        assert result.in_force == ("private-temp", "capabilities") and result.escaped == ("no-userns",)
        assert dict(result.missing)["no-userns"] == (f"thread 11 (t11) lacks the seccomp filter (mode {early.seccomp}, "
                                                     f"{early.filters} filters): the filter did not reach it")
    assert seccomp.thread_filters({"Seccomp": "\t2\n", "Seccomp_filters": "\t3\n"}) == (2, 3)
    assert seccomp.thread_filters({"Seccomp": "\t0\n"}) == (0, None)  # before Linux 5.9


def test_no_userns_is_taken_last_and_says_why_not_where_refused(
        restored: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Red-team round 6 (g08): the seccomp filter comes after every namespace confinement makes, root or not."""
    monkeypatch.setenv("HOME", os.environ.get("HOME", ""))
    monkeypatch.setenv("XDG_CACHE_HOME", os.environ.get("XDG_CACHE_HOME", ""))
    monkeypatch.setenv(confine.OWN_UID_ENV, str(confine.OWN_UID_BASE + 7))
    system = FakeSystem(root=True)
    result = confine.confine(temp_root=str(restored), system=system)
    names = [call[0] for call in system.calls]
    last_unshare = max(i for i, name in enumerate(names) if name in ("unshare", "mount", "become"))
    assert "no-userns" in result.in_force and names.count("deny_namespaces") == 1
    assert last_unshare < names.index("drop_capabilities") < names.index("deny_namespaces")  # no namespace after it
    refused = FakeSystem(root=False, refuse=("seccomp",))
    result = confine.confine(temp_root=str(restored), system=refused)
    assert dict(result.missing)["no-userns"] == "Operation not permitted"
    assert "no-userns: Operation not permitted" in result.header_line()


CHILD = """
import json, os, sys
sys.path.insert(0, {root!r})
os.environ.update(SOLBENCH_CONFINE="1", SOLBENCH_CONFINE_ROOT={temp!r}, HOME={home!r}, TRITON_INTERPRET="1",
                  OMP_NUM_THREADS="3")  # ATen's pool has threads whatever the cores
os.environ.pop("SOLBENCH_CACHE_DIR", None)
from pathlib import Path
from pytest_solbench.data import kernels
from pytest_solbench.data.discovery import parse_solution
from pytest_solbench.data.trace import load_problem
from pytest_solbench.guard import confine
from pytest_solbench.worker import execute
if {first_thing}:
    execute.confined_warm_up()  # the kernel's pool's initializer
else:
    execute.warm_up()  # the order red-team round 3 found: ATen's pool started, then confined at the kernel's load
import torch
warm = len(os.listdir("/proc/self/task"))
(torch.randn(512, 4096) * 2).sum(-1)
solution = {{"name": "c05", "definition": "llama3_1_8b_rmsnorm_h4096", "spec": {{"entry_point": "k.py::run"}},
            "sources": [{{"path": "k.py", "content": "def run(hidden_states, weight):\\n    return hidden_states\\n"}}]}}
spec = parse_solution(solution, Path({temp!r}) / "solution.json")
try:
    execute._kernel(spec, load_problem(Path({problem!r})).definition, True)
    loaded = str(kernels.source_folder(spec))
except kernels.KernelError as exc:
    loaded = "refused: " + str(exc)
me, tasks = confine.System().tasks()
mine = [t.namespaces for t in tasks if t.tid == me][0]
print(json.dumps({{"threads": len(tasks), "warm": warm, "capabilities": [t.capabilities for t in tasks],
                  "same_namespaces": all(t.namespaces == mine for t in tasks), "loaded": loaded,
                  "confinement": confine.for_kernel().to_json()}}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="confinement is Linux only")
def test_a_kernels_process_confines_itself_before_any_thread_and_writes_the_kernel_only_in_its_temp(
        tmp_path: Path) -> None:  # fmt: skip
    """Red-team round 3: c06, ATen's pool started by the warm-up before confinement ran the kernel's native code
    unconfined; c05, a solution's sources were written (as root, before confinement) where its name pointed."""
    problem = ROOT / "problems" / "llama3_1_8b_rmsnorm_h4096" / "definition.json"
    facts = {}
    for first_thing in (True, False):
        code = CHILD.format(root=str(ROOT), temp=str(tmp_path), home=str(tmp_path / "home"), problem=str(problem),
                            first_thing=first_thing)  # fmt: skip
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        facts[first_thing] = json.loads(done.stdout.strip().splitlines()[-1])
    good, late = facts[True], facts[False]
    result = Confinement.from_json(good["confinement"])
    assert good["threads"] > 1 and result.escaped == ()  # ATen's pool runs, started inside the confinement
    assert good["warm"] == good["threads"]  # by the warm-up: a large op adds no thread for the tripwire (e9998e0)
    assert good["loaded"].startswith(os.path.join(result.temp_dir, "solbench", "solutions", "c05-"))
    assert not (tmp_path / "home").exists()  # nothing written to the plugin's cache outside the private temp
    if not IS_LINUX_ROOT or "capabilities" not in result.in_force:
        pytest.skip(f"no capabilities or namespaces to check on this machine: {result.header_line()}")
    assert set(good["capabilities"]) == {0} and good["same_namespaces"]
    late_result = Confinement.from_json(late["confinement"])
    assert {"network", "read-only-fs", "capabilities"} <= set(late_result.escaped)
    assert late["loaded"].startswith("refused: the kernel's process is not confined in every thread")
    assert "it started before the process was confined" in late["loaded"]


NPROC_CHILD = """
import json, os, sys
sys.path.insert(0, {root!r})
from pytest_solbench.guard import confine
if {as_user}:
    os.setgid(65534)
    os.setuid(65534)  # nobody: Linux enforces RLIMIT_NPROC only for a user that is not root
confine.THREAD_HEADROOM = 5
result = confine.confine(temp_root={temp!r}, read=[{closed!r}])  # closed: root stays root (no own-user)
r, w = os.pipe()
kids, refused = [], None
for _ in range(64):
    try:
        pid = os.fork()
    except OSError as exc:
        refused = exc.strerror
        break
    if pid == 0:
        os.close(w)
        os.read(r, 1)  # held until the parent has forked them all: no clock in the test
        os._exit(0)
    kids.append(pid)
os.close(w)
for pid in kids:
    os.waitpid(pid, 0)
print(json.dumps({{"result": result.to_json(), "forked": len(kids), "refused": refused}}))
"""


@pytest.mark.skipif(not IS_LINUX_ROOT, reason="switches to the user nobody: needs root on Linux")
def test_the_process_cap_is_claimed_only_where_linux_enforces_it(tmp_path: Path) -> None:
    """Red-team round 3 (c07): RLIMIT_NPROC is not enforced for uid 0, so the process cap is not claimed as root;
    for another user it holds: a fork past the headroom is refused."""
    temp = tempfile.mkdtemp(prefix="solbench-test-nproc-")
    os.chmod(temp, 0o777)
    closed = tempfile.mkdtemp(prefix="solbench-test-closed-")  # mode 700: a user of its own could not read it
    try:
        facts = {}
        for as_user in (True, False):
            code = NPROC_CHILD.format(root=str(ROOT), temp=temp, as_user=as_user, closed=closed)
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr[-2000:]
            facts[as_user] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(closed, ignore_errors=True)
    user, root = facts[True], facts[False]
    assert "process-cap" in Confinement.from_json(user["result"]).in_force
    assert user["refused"] == "Resource temporarily unavailable" and user["forked"] <= 5
    root_result = Confinement.from_json(root["result"])
    assert dict(root_result.missing)["process-cap"] == "Linux does not enforce RLIMIT_NPROC for root, as kernels run here"
    assert root["refused"] is None and root["forked"] == 64  # what the claim would have hidden


SUBREAPED = """
import os, subprocess, sys, time
sys.path.insert(0, {root!r})
from pytest_solbench.guard.confine import subreaper
from pytest_solbench.worker.pool import _descendants
held = subreaper()
subprocess.run(["sh", "-c", "setsid sleep 30 >/dev/null 2>&1 < /dev/null &"], check=True)  # the shell exits at once
time.sleep(0.5)
found = _descendants(os.getpid())
parents = [int(open(f"/proc/{{pid}}/stat").read().rsplit(")", 1)[1].split()[1]) for pid in found]
for pid in found:
    os.kill(pid, 9)
print(held, len(found), parents == [os.getpid()] * len(found))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc are Linux's")
def test_a_daemon_a_kernel_detaches_stays_its_child_and_is_found_to_be_killed() -> None:
    """Red-team round 4: a daemon started with setsid (through a compiler's helper) left the kernel's process group,
    outlived the item and SIGKILLed the next kernels' processes. Its process is a subreaper: the daemon is
    reparented to it, the tripwires count it, and retiring the process kills it (``pool._descendants``)."""
    out = subprocess.run([sys.executable, "-c", SUBREAPED.format(root=str(ROOT))], capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()  # fmt: skip
    assert out == ["True", "1", "True"], out


@pytest.mark.skipif(not IS_LINUX_ROOT, reason="takes another user: needs root on Linux")
def test_a_kernels_process_still_dies_with_its_judge_after_it_becomes_its_own_user() -> None:
    """Linux clears the parent-death signal on a change of user, so a kernel's process under own-user outlived a
    judge that was killed (red-team round 7). ``become`` sets it again: the child here asks for SIGKILL on its
    parent's death, becomes a user of its own, and reports what it holds then."""
    import ctypes
    import warnings

    report, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(ctypes.c_int(confine.PR_SET_PDEATHSIG), ctypes.c_ulong(9), ctypes.c_ulong(0),
                       ctypes.c_ulong(0), ctypes.c_ulong(0))  # fmt: skip
            confine.System().become(confine.new_user())
            held = ctypes.c_int(-1)
            libc.prctl(ctypes.c_int(confine.PR_GET_PDEATHSIG), ctypes.c_ulong(ctypes.addressof(held)),
                       ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))  # fmt: skip
            os.write(write, f"{os.getuid()} {held.value}".encode())
        finally:
            os._exit(0)
    os.close(write)
    uid, held = os.read(report, 64).decode().split()
    os.close(report)
    os.waitpid(pid, 0)
    assert int(uid) >= confine.OWN_UID_BASE and int(held) == 9


def test_a_cuda_kernels_private_dev_binds_the_drivers_nodes_and_nothing_else(restored: Path, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Round 12, n03 for CUDA: a root kernel's process opened the machine's /dev/kmsg and block devices for writing;
    a CUDA kernel's private /dev holds the plain nodes and the NVIDIA driver's (its nodes, the nvidia-caps folder)."""
    dev = tmp_path / "dev"
    (dev / "nvidia-caps").mkdir(parents=True)
    for name in ("null", "zero", "nvidia0", "nvidiactl", "nvidia-uvm", "kmsg", "sda", "tty0"):
        (dev / name).touch()
    monkeypatch.setattr(confine, "DEV", str(dev))
    assert confine.cuda_nodes() == ("nvidia-caps", "nvidia-uvm", "nvidia0", "nvidiactl")
    system = FakeSystem(root=True)
    result = confine.confine(temp_root=str(restored), shared=[str(restored)], system=system, cuda=True)
    assert "private-dev" in result.in_force
    bound = {call[1]: call[4] for call in system.calls if call[0] == "mount" and str(call[1]).startswith(str(dev))}
    assert set(bound) == {str(dev / n) for n in ("null", "zero", "nvidia0", "nvidiactl", "nvidia-uvm", "nvidia-caps")}
    assert bound[str(dev / "nvidia-caps")] & MS_REC  # a folder: bound with what is in it
    cpu = FakeSystem(root=True)
    confine.confine(temp_root=str(restored), shared=[str(restored)], system=cpu)
    assert not any(call[0] == "mount" and "nvidia" in str(call[1]) for call in cpu.calls)


def test_a_measure_can_be_left_out_by_name_to_find_which_breaks_a_machine(restored: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv(confine.OFF_ENV, "private-dev, read-only-proc")
    result = confine.confine(temp_root=str(restored), shared=[str(restored)], system=FakeSystem(root=True), cuda=True)
    missing = dict(result.missing)
    assert missing["private-dev"] == missing["read-only-proc"] == "turned off (SOLBENCH_CONFINE_OFF)"
    assert "read-only-fs" in result.in_force and "network" in result.in_force

"""The ``no-userns`` measure (``guard.seccomp``): the BPF program run through a small interpreter of the kernel's
rules, the measure's place in confinement, and the real filter in a child process (red-team round 6, g08)."""

from __future__ import annotations

import errno
import json
import os
import platform
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_solbench.guard import seccomp
from pytest_solbench.guard.confine import Confinement
from pytest_solbench.guard.seccomp import ARCHES, UNSHARE_NEW, Instruction

ROOT = Path(__file__).resolve().parents[1]
ALLOW, EPERM, ENOSYS = seccomp.SECCOMP_RET_ALLOW, seccomp.errno_return(errno.EPERM), seccomp.errno_return(errno.ENOSYS)
AUDIT_ARCH_I386 = 0x40000003
SIGCHLD = 17
THREAD_FLAGS = 0x3D0F00  # glibc's pthread_create: VM, FS, FILES, SIGHAND, THREAD, SYSVSEM, SETTLS, PARENT/CHILD TID
FORK_FLAGS = 0x01200000 | SIGCHLD  # glibc's fork: CHILD_SETTID, CHILD_CLEARTID
VFORK_FLAGS = 0x4100 | SIGCHLD  # CLONE_VM | CLONE_VFORK (posix_spawn, subprocess)
NAMESPACE_FLAGS = [1 << bit for bit in range(32) if UNSHARE_NEW & (1 << bit)]


def run_bpf(program: tuple[Instruction, ...], nr: int, arch: int, *args: int) -> int:
    """What the kernel's seccomp would return for this call: classic BPF as Linux checks and runs it (32-bit loads
    from ``struct seccomp_data`` in this machine's byte order, forward jumps only, every path ends in a return)."""
    assert 0 < len(program) <= 4096
    data = struct.pack("<iIQ6Q", nr, arch, 0, *(list(args) + [0] * 6)[:6])
    accumulator, pc = 0, 0
    while True:
        assert 0 <= pc < len(program), f"ran off the program at {pc}"
        op = program[pc]
        if op.code == seccomp.BPF_LD_W_ABS:
            assert op.k % 4 == 0 and op.k + 4 <= len(data)
            accumulator = struct.unpack_from("<I", data, op.k)[0]
            pc += 1
        elif op.code in (seccomp.BPF_JEQ_K, seccomp.BPF_JGE_K, seccomp.BPF_JSET_K):
            taken = {seccomp.BPF_JEQ_K: accumulator == op.k, seccomp.BPF_JGE_K: accumulator >= op.k,
                     seccomp.BPF_JSET_K: bool(accumulator & op.k)}[op.code]  # fmt: skip
            pc += 1 + (op.jt if taken else op.jf)
        elif op.code == seccomp.BPF_RET_K:
            return op.k
        else:
            raise AssertionError(f"opcode {op.code:#x} is not one the interpreter knows")


@pytest.fixture(params=sorted(ARCHES))
def arch(request: pytest.FixtureRequest) -> seccomp.Arch:
    return ARCHES[request.param]


def test_new_namespaces_are_refused_and_threads_processes_and_other_calls_pass(arch: seccomp.Arch) -> None:
    program = seccomp.program(arch)

    def call(nr: int, *args: int) -> int:
        return run_bpf(program, nr, arch.audit_arch, *args)

    for flag in NAMESPACE_FLAGS:  # every CLONE_NEW* flag, CLONE_NEWUSER among them
        assert call(arch.nr_unshare, flag) == EPERM, hex(flag)
        assert call(arch.nr_unshare, flag | 0x400) == EPERM  # with CLONE_FILES beside it
    for flag in NAMESPACE_FLAGS[1:]:  # clone: all but CLONE_NEWTIME, whose bit is clone's exit signal
        assert call(arch.nr_clone, flag | SIGCHLD) == EPERM, hex(flag)
        assert call(arch.nr_clone, flag | THREAD_FLAGS) == EPERM
    assert call(arch.nr_clone, seccomp.CLONE_NEWUSER | SIGCHLD | (1 << 40)) == EPERM  # the high word changes nothing
    assert call(arch.nr_clone, 0x80) == ALLOW  # signal 128: no namespace (clone masks the low byte out of its flags)
    assert call(arch.nr_setns, 3, 0) == EPERM and call(arch.nr_setns, 3, seccomp.CLONE_NEWNET) == EPERM
    assert call(arch.nr_clone3, 0x7FFF0000, 88) == ENOSYS  # its flags are in user memory: glibc falls back to clone
    for flags in (THREAD_FLAGS, FORK_FLAGS, VFORK_FLAGS, SIGCHLD):
        assert call(arch.nr_clone, flags) == ALLOW, hex(flags)
    for flags in (0, 0x400, 0x200, 0x40000):  # CLONE_FILES, CLONE_FS, CLONE_SYSVSEM: no namespace
        assert call(arch.nr_unshare, flags) == ALLOW
    for nr in arch.nr_pidfd:  # pidfd_send_signal, pidfd_open, pidfd_getfd: as on a kernel without them (n08)
        assert call(nr, os.getpid(), 0) == ENOSYS
    for nr in (0, 1, 3, 56, 57, 59, 62, 63, 97, 101, 220, 221, 268, 272, 308, 334, 423, 425, 433, 436, 437, 439):
        if nr not in (arch.nr_clone, arch.nr_unshare, arch.nr_setns, arch.nr_clone3, *arch.nr_pidfd):
            assert call(nr, seccomp.CLONE_NEWUSER) == ALLOW, nr  # another call's argument means nothing here


def test_a_call_of_another_abi_gets_enosys_whatever_its_number(arch: seccomp.Arch) -> None:
    """i386 through ``int 0x80`` (or AArch32) numbers its calls apart: its unshare would pass a check by number."""
    program = seccomp.program(arch)
    for nr in (0, 310, arch.nr_unshare, arch.nr_clone):
        assert run_bpf(program, nr, AUDIT_ARCH_I386, seccomp.CLONE_NEWUSER) == ENOSYS
        assert run_bpf(program, nr, arch.audit_arch ^ 0x40000000, 0) == ENOSYS  # its 32-bit or big-endian twin
    if arch.other_abi_bit:  # x86_64's x32 calls carry x86_64's audit arch and a bit in their number
        x32 = arch.other_abi_bit
        assert run_bpf(program, x32 | arch.nr_unshare, arch.audit_arch, seccomp.CLONE_NEWUSER) == ENOSYS
        assert run_bpf(program, x32 | 0, arch.audit_arch) == ENOSYS
        assert run_bpf(program, x32 - 1, arch.audit_arch) == ALLOW


def test_the_program_is_what_the_kernel_accepts(arch: seccomp.Arch) -> None:
    """Eight bytes an instruction, every jump forward and inside, the arch checked first, every exit a return."""
    program = seccomp.program(arch)
    assert all(len(op.packed()) == 8 for op in program)
    assert program[0] == Instruction(seccomp.BPF_LD_W_ABS, 0, 0, seccomp.ARCH_OFFSET)
    assert program[1].code == seccomp.BPF_JEQ_K and program[1].k == arch.audit_arch
    for i, op in enumerate(program):
        if op.code in (seccomp.BPF_JEQ_K, seccomp.BPF_JGE_K, seccomp.BPF_JSET_K):
            assert i + 1 + max(op.jt, op.jf) < len(program)
    assert program[-1].code == seccomp.BPF_RET_K
    assert {op.k for op in program if op.code == seccomp.BPF_RET_K} == {ALLOW, EPERM, ENOSYS}


def test_another_architecture_is_named_not_guessed(monkeypatch: pytest.MonkeyPatch) -> None:
    if not sys.platform.startswith("linux"):
        with pytest.raises(OSError, match="seccomp is Linux's"):
            seccomp.install()
        return
    monkeypatch.setattr(platform, "machine", lambda: "riscv64")
    assert seccomp.arch_here() is None
    with pytest.raises(OSError, match=r"no seccomp filter built for this architecture \(riscv64\): only x86_64, "):
        seccomp.install()  # refused before anything is installed in this, the test's own, process


# ---------------------------------------------------------------- the real filter, in a child process

CHILD = r"""
import ctypes, json, os, shutil, subprocess, sys, threading
sys.path.insert(0, {root!r})
from pytest_solbench.guard import confine, seccomp

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
arch = seccomp.arch_here()
facts = {{}}


def errno_of(result):
    return 0 if result == 0 else ctypes.get_errno()


def in_child(action):
    # action() in a forked child: its errno (0: it worked), so a namespace made is never this process's
    pid = os.fork()
    if pid == 0:
        os._exit(action())
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def clone(flags):
    # the raw clone system call (glibc's wrapper needs a stack): a child made anyway exits at once
    result = libc.syscall(ctypes.c_long(arch.nr_clone), ctypes.c_ulong(flags), None, None, None, None)
    if result == 0:
        os._exit(0)
    if result > 0:
        os.waitpid(result, 0)
        return 0
    return ctypes.get_errno()


started = threading.Event()
stop = threading.Event()
early = threading.Thread(target=lambda: (started.set(), stop.wait()), daemon=True)  # started before confinement
early.start()
started.wait()
facts["before"] = in_child(lambda: errno_of(libc.unshare(seccomp.CLONE_NEWUSER)))
result = confine.threads_checked(confine.confine(temp_root={temp!r}))
facts["result"] = result.to_json()
with open(f"/proc/self/task/{{early.native_id}}/status") as handle:
    facts["early"] = seccomp.thread_filters(dict(line.split(":", 1) for line in handle if ":" in line))
facts["unshare"] = {{hex(flag): in_child(lambda: errno_of(libc.unshare(flag)))
                     for flag in (seccomp.CLONE_NEWUSER, seccomp.CLONE_NEWNET, seccomp.CLONE_NEWPID,
                                  seccomp.CLONE_NEWNS, seccomp.CLONE_NEWUSER | seccomp.CLONE_NEWIPC)}}
facts["clone_user"] = clone(seccomp.CLONE_NEWUSER | 17)
facts["clone_pid"] = clone(seccomp.CLONE_NEWPID | 17)
facts["clone_plain"] = clone(17)
facts["clone3"] = errno_of(libc.syscall(ctypes.c_long(arch.nr_clone3), None, ctypes.c_ulong(88)))
fd = os.open("/proc/self/ns/net", os.O_RDONLY)
facts["setns"] = errno_of(libc.setns(fd, 0))
tool = shutil.which("unshare")
facts["unshare_tool"] = tool and subprocess.run([tool, "-U", "true"], capture_output=True, text=True).stderr.strip()

box = []
thread = threading.Thread(target=lambda: box.append(threading.get_native_id()))
thread.start()
thread.join()
facts["thread"] = bool(box)
import torch
torch.set_num_threads(2)
facts["parallel_sum"] = torch.ones(1 << 22).sum().item()  # ATen's parallel_for: its pool's threads
rows = torch.arange(256.0).expand(256, 256)
facts["matmul"] = bool(torch.allclose(torch.eye(256) @ rows, rows))
pid = os.fork()
if pid == 0:
    os._exit(7)
facts["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
facts["subprocess"] = subprocess.run([sys.executable, "-c", "print('ok')"], capture_output=True,
                                     text=True).stdout.strip()
facts["shell"] = subprocess.run(["sh", "-c", "echo ok"], capture_output=True, text=True).stdout.strip()
compiler = shutil.which("gcc") or shutil.which("cc")
if compiler:  # what Triton's compiler does: a C compiler that starts its own helpers (cc1, as, ld)
    folder = result.temp_dir
    with open(os.path.join(folder, "k.c"), "w") as handle:
        handle.write("int main(void) {{ return 5; }}\n")
    built = subprocess.run([compiler, "-o", os.path.join(folder, "k"), os.path.join(folder, "k.c")],
                           capture_output=True, text=True)
    facts["cc"] = built.stderr.strip() or subprocess.run([os.path.join(folder, "k")]).returncode
tasks = os.listdir("/proc/self/task")
modes = []
for tid in tasks:
    with open(f"/proc/self/task/{{tid}}/status") as handle:
        modes.append(seccomp.thread_filters(dict(line.split(":", 1) for line in handle if ":" in line))[0])
facts["threads"] = len(tasks)
facts["modes"] = sorted(set(modes))
facts["checked"] = confine.threads_checked(result).to_json()
try:
    os.close(os.pidfd_open(os.getppid()))
    facts["pidfd"] = 0
except OSError as exc:
    facts["pidfd"] = exc.errno
stop.set()
print(json.dumps(facts))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="seccomp is Linux's")
@pytest.mark.skipif(seccomp.arch_here() is None, reason=f"no filter built for {platform.machine()}")
def test_a_confined_process_makes_no_namespace_but_runs_threads_processes_and_compilers(tmp_path: Path) -> None:
    """Red-team round 6 (g08): as root without own-user, a kernel's process made a user namespace and in it a new
    IPC namespace, leaving the judge's mark. Confined for real (as root here: every measure the machine allows), a
    child can no longer unshare or clone into any new namespace, nor setns, and clone3 says ENOSYS, while threads
    (ATen's pool included), fork, subprocesses and a C compiler work. A thread started before confinement has the
    filter too (TSYNC)."""
    temp = tmp_path / "temp"
    temp.mkdir()
    os.chmod(tmp_path, 0o711)
    os.chmod(temp, 0o711)
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), temp=str(temp))], capture_output=True,
                          text=True, timeout=300, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    result = Confinement.from_json(facts["result"])
    assert "no-userns" in result.in_force and "no-userns" not in result.escaped, result.header_line()
    assert facts["early"][0] == 2  # the thread started before confinement took the filter too (its namespaces not)
    assert set(facts["unshare"].values()) == {errno.EPERM}, (facts["unshare"], f"before the filter: {facts['before']}")
    assert facts["clone_user"] == facts["clone_pid"] == errno.EPERM and facts["clone_plain"] == 0
    assert facts["clone3"] == errno.ENOSYS and facts["setns"] == errno.EPERM
    if facts["unshare_tool"] is not None:
        assert "Operation not permitted" in facts["unshare_tool"]
    assert facts["thread"] and facts["parallel_sum"] == 1 << 22 and facts["matmul"]
    assert facts["fork"] == 7 and facts["subprocess"] == "ok" and facts["shell"] == "ok"
    assert facts.get("cc", 5) == 5, facts.get("cc")
    assert facts["threads"] >= 3 and facts["modes"] == [2]  # the early thread, ATen's pool, all filtered
    assert "no-userns" in Confinement.from_json(facts["checked"]).in_force
    assert facts["pidfd"] == errno.ENOSYS  # no pidfd of the judge to signal it through (round 12, n08)

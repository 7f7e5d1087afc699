"""Can a confined kernel process use CUDA and the judge's CUDA IPC tensors, and does the judge get them back?

    python benchmarks/ipc_probe.py

The judge's side (this process) shares one 64 MiB CUDA block from a memory pool of its own, as ``worker.shm.Arena``
does; a child process attaches it, doubles it and lets go of it, under each variant: ``plain``; ``ipc-ns`` (an IPC namespace of its own); ``own-uid-host-shm`` (that, a mount
namespace, and a user id of its own, with the machine's /dev/shm); ``private-shm`` (a
mount namespace with a tmpfs over /dev/shm, where torch's IPC reference-count files live); ``no-caps`` (that, and
no capability left); ``own-uid`` (private-shm, then an unprivileged user id of its own); ``root-files-own-uid`` (an IPC
namespace, real and effective user ids of its own, so it can signal no root process, with file access as root). This process is not
dumpable, as the judge is. Prints, per variant, whether the child's CUDA worked, whether the judge saw its
write, the reference count torch's file holds after the child let go, and the judge's reserved bytes after
``ipc_collect``: a count left at 1 means the judge can never free the block (a leak per shared tensor)."""

from __future__ import annotations

import json
import mmap
import subprocess
import sys

CHILD = r"""
import ctypes, json, os, sys
variant, desc = sys.argv[1], json.loads(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
if variant in ("ipc-ns", "own-uid-host-shm"):
    os.unshare(0x08000000)  # CLONE_NEWIPC, as the ipc measure does
if variant == "own-uid-host-shm":
    os.unshare(0x00020000)
    assert libc.mount(None, b"/", None, ctypes.c_ulong(16384 | (1 << 18)), None) == 0
if variant in ("private-shm", "no-caps", "own-uid"):
    os.unshare(0x00020000)
    assert libc.mount(None, b"/", None, ctypes.c_ulong(16384 | (1 << 18)), None) == 0
    assert libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", ctypes.c_ulong(6), b"mode=1777") == 0
if variant == "no-caps":
    sys.path.insert(0, os.getcwd())
    from pytest_solbench.guard.confine import System
    getattr(System(), "limit_privileges", lambda: None)()
    System().drop_capabilities()
if variant in ("own-uid", "own-uid-host-shm"):
    uid = 1000000 + os.getpid()
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    os.environ["HOME"] = "/tmp"
if variant == "root-files-own-uid":  # real and effective user of its own (no signal reaches root), files as root
    os.unshare(0x08000000)
    uid = 1000000 + os.getpid()
    os.setresuid(uid, uid, 0)
    libc.setfsuid(0)
    assert libc.setfsuid(-1) == 0, "fsuid not 0"
sys.path.insert(0, os.getcwd())
import torch
from pytest_solbench.worker.shm import attach
t = attach(desc, "cuda")
t.mul_(2)
torch.cuda.synchronize()
try:
    os.kill(os.getppid(), 0)
    signals_parent = True
except PermissionError:
    signals_parent = False
print(json.dumps({"uid": os.getuid(), "sum": float(t.float().sum()), "signals_parent": signals_parent}))
del t
import gc; gc.collect()
torch.cuda.synchronize()
"""


def main() -> int:
    import torch

    from pytest_solbench.worker.shm import Arena

    rows = []
    from pytest_solbench.guard.confine import undumpable

    undumpable()  # as the judge is
    import glob
    import os

    for variant in ("plain", "ipc-ns", "own-uid-host-shm", "own-uid-shm-open", "private-shm", "no-caps", "own-uid",
                    "root-files-own-uid"):
        arena = Arena("cuda:0")
        shared, desc = arena.share(torch.ones(16 << 20, device="cuda"))
        torch.cuda.synchronize()
        driver_files = glob.glob(f"/dev/shm/cuda.shm.*.{os.getpid():x}.*")
        modes = {f: os.stat(f).st_mode & 0o777 for f in driver_files}
        if variant == "own-uid-shm-open":  # the driver's file of this process opened to everyone: enough for a uid?
            for f in driver_files:
                os.chmod(f, 0o666)
        done = subprocess.run([sys.executable, "-c", CHILD, "own-uid-host-shm" if variant == "own-uid-shm-open"
                               else variant, json.dumps(desc)], capture_output=True, text=True, timeout=120)  # fmt: skip
        for f, mode in modes.items():
            os.chmod(f, mode)
        handle, offset = desc["ipc"][4], desc["ipc"][5]
        path = "/dev/shm/" + bytes.fromhex(handle).decode().lstrip("/")
        try:
            with open(path, "rb") as f:
                counts = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                count = int.from_bytes(counts[offset * 8 : offset * 8 + 8], "little", signed=True)
        except OSError as exc:
            count = f"unreadable: {exc}"
        seen = float(shared.sum())
        del shared
        arena.close()
        rows.append({"variant": variant, "driver_files": {f: oct(m) for f, m in modes.items()}, "child_rc": done.returncode, "child": done.stdout.strip()[-200:],
                     "child_err": done.stderr.strip()[-600:], "judge_saw_sum": seen, "refcount_after": count,
                     "reserved_after_collect": torch.cuda.memory_reserved()})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    import os

    print(json.dumps({"dev_shm": sorted(os.listdir("/dev/shm"))[:40]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

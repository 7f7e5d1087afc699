"""Small targets that test_worker.py runs inside worker processes (imported there by "worker_targets:name")."""

from __future__ import annotations

import os
import sys
import time


def echo(payload):
    return {"payload": payload, "pid": os.getpid()}


def pid(payload=None):
    return os.getpid()


def modules(payload=None):
    return sorted(name for name in sys.modules if name.split(".")[0] in {"pytest", "_pytest", "pytest_solbench"})


def getenv(name):
    return os.environ.get(name)


def boom(payload=None):
    raise ValueError(f"bad input {payload!r}")


def segfault(payload=None):
    import ctypes

    sys.stderr.write("about to read address 0\n")
    sys.stderr.flush()
    ctypes.string_at(0)


def exit_hard(payload=None):
    os.write(2, b"native write before os._exit\n")  # fd 2 directly, as C code would
    os._exit(3)


def spin(payload=None):
    while True:
        pass


def unpicklable(payload=None):
    return lambda: None


def health(payload=None):
    if os.environ.get("SOLBENCH_TEST_SICK") and os.path.exists(os.environ["SOLBENCH_TEST_SICK"]):
        raise RuntimeError("CUDA context is corrupted (simulated)")
    return True


def make_sick(path):
    os.environ["SOLBENCH_TEST_SICK"] = path
    open(path, "w").close()
    raise RuntimeError("device-side assert triggered (simulated)")


def slow_init(payload=None):
    time.sleep(0.2)
    os.environ["SOLBENCH_TEST_INITIALIZED"] = "yes"


def sleep(seconds):
    time.sleep(seconds)
    return seconds


def unhealthy():
    return False


def retire_with_outcome(log):
    """Raises with a verdict attached, as the harness does when a kernel broke its CUDA context (the pool reads the
    ``outcome`` of the plugin's own exception classes only: a kernel's class is never asked for anything)."""
    from pytest_solbench.protocol import ItemOutcome, Status
    from pytest_solbench.worker.execute import CudaContextLost

    raise CudaContextLost(ItemOutcome(Status.INCORRECT_NUMERICAL, log))


def kernel_modules(payload=None):
    """Modules a kernel's import would have left behind (data.kernels names them solbench_kernel_*)."""
    return sorted(name for name in sys.modules if name.startswith("solbench_kernel"))


def stop_self(payload=None):
    """Red-team round 1 (stopjudge): a process stopped by SIGSTOP, as a kernel stops its judge."""
    import signal

    os.kill(os.getpid(), signal.SIGSTOP)
    return "continued"


def spawn_sleeper(payload=None):
    """A child left behind in the worker's process group, as a DataLoader worker started at import is."""
    import subprocess

    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]).pid


def extra_frame(payload=None):
    """Red-team round 1 (pipe_inject): a well-formed frame with no nonce written on the reply channel itself."""
    import json
    import struct

    body = json.dumps({"ok": "forged"}).encode()
    os.write(int(sys.argv[-1]), struct.pack("!i", len(body)) + body)
    return "honest"


def nested_frame(payload=None):
    """Red-team round 8 (j04): a frame of 200,000 ``[`` on the reply channel, which the JSON decoder cannot read
    (RecursionError, not a ValueError)."""
    import struct

    body = b"[" * 200_000
    os.write(int(sys.argv[-1]), struct.pack("!i", len(body)) + body)
    return "honest"


_KERNEL_POOLS: list = []


def start_kernel_with_child(payload=None):
    """A judge's part: a kernel's process (a plain pool of this process's) that leaves a child behind; the pids of
    this process, the kernel's and its child."""
    from pytest_solbench.worker.pool import WorkerPool

    pool = WorkerPool(1, plain=True)
    _KERNEL_POOLS.append(pool)  # held open, as a judge holds its kernels' pools between items
    child = pool.call("worker_targets:spawn_sleeper", None, 120)
    return [os.getpid(), pool.call("worker_targets:pid", None, 120), child]


def kernel_sleeps(seconds):
    """A judge's part: waiting on its kernel's process, which takes ``seconds`` to answer."""
    return _KERNEL_POOLS[-1].call("worker_targets:sleep", seconds, seconds + 60)


def draws_a_user_that_forks(payload=None):
    """A judge's part: a user drawn for a kernel (noted as a judge notes it) and a process of that user left running,
    as a kernel's forked child is; its pid."""
    import subprocess

    from pytest_solbench.guard.confine import new_user
    from pytest_solbench.worker.pool import _register

    uid = new_user()
    _register(f"user {uid}")
    return subprocess.Popen(["sleep", "300"], user=uid, group=uid, extra_groups=[], start_new_session=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid

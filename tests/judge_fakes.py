"""A kernel-process harness that answers the judge off the schema, one way per SOLBENCH_FAKE_REPLY (test_judge.py).

It wraps the real harness (``worker.harness``), so everything else about the exchange is as in a real run."""

from __future__ import annotations

import json
import os
import pickle
import struct
import sys

from pytest_solbench.worker import harness
from pytest_solbench.worker.shm import attach

MODE = os.environ.get("SOLBENCH_FAKE_REPLY", "")


def _write(data: bytes) -> None:
    os.write(int(sys.argv[-1]), struct.pack("!i", len(data)) + data)


def load(payload):
    return harness.load(payload)


def ping(payload=None):
    return harness.ping(payload)


def attach_sets(payload):
    return harness.attach_sets(payload)


def checked(payload=None):
    return harness.checked(payload)


def timed(payload):
    reply = harness.timed(payload)
    if MODE == "forge-time" and "measurement" in reply:  # every sample a thousandth of what it was
        measured = reply["measurement"]
        measured["samples_ms"] = [t / 1000 for t in measured["samples_ms"]]
        for key in ("median_ms", "min_ms", "q1_ms", "q3_ms", "mean_ms", "stdev_ms"):
            measured[key] /= 1000
    return reply


def call(payload):
    reply = harness.call(payload)
    if MODE == "status":
        reply["status"] = "PASSED"
    elif MODE == "extra":
        reply["note"] = "trust me"
    elif MODE == "wrong-type":
        reply["calls"][0]["outputs"] = "all good"
    elif MODE == "pickle":
        _write(pickle.dumps(("ok", {"calls": [{"outputs": None, "trip": None, "kernel_names": None}], "ops": None,
                                       "kernel_s": 0.0})))
    elif MODE == "not-json":
        _write(b"{not json")
    elif MODE == "outer-keys":
        _write(json.dumps({"ok": reply, "status": "PASSED"}).encode())
    return reply


HELD: list = []


def double_into_and_hold(payload):
    """As double_into, and keeps both tensors: a receiver that never lets go (or, confined, cannot tell the judge)."""
    from pytest_solbench.worker.shm import attach

    source, target = (attach(payload[k], payload["device"]) for k in ("input", "output"))
    HELD.extend((source, target))  # opened once: each opening that is let go gives up a count (seen on an H100)
    return _doubled(source, target, payload["device"])


def double_into(payload):
    """Reads the judge's shared input and writes twice it into the judge's shared output, from this process."""
    from pytest_solbench.worker.shm import attach

    source, target = attach(payload["input"], payload["device"]), attach(payload["output"], payload["device"])
    return _doubled(source, target, payload["device"])


def _doubled(source, target, device):
    target.copy_(source * 2)
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
    return {}


def resize(payload):
    """A kernel's process that tries every way to change the size of the judge's tensors it was passed (and keeps
    a copy of each descriptor, as one that outlives the exchange would): what each try met, by errno name."""
    import errno

    from pytest_solbench.worker.pool import PASSED

    attach(payload["input"], payload["device"])
    tried = {}
    for fd in PASSED.values():
        kept = os.dup(fd)
        HELD.append(kept)
        tried.update(_tries(kept, payload["input"]["nbytes"]))
    return {name: errno.errorcode.get(code, str(code)) for name, code in tried.items()}


def resize_held(_payload=None):
    """As ``resize``, on the descriptors kept from an earlier request, after the judge closed its side."""
    import errno

    tried = {}
    for fd in HELD:
        if isinstance(fd, int):
            tried.update(_tries(fd, 4096))
    return {name: errno.errorcode.get(code, str(code)) for name, code in tried.items()}


def _tries(fd, nbytes):
    def code(action):
        try:
            action()
        except OSError as exc:
            return exc.errno
        return 0

    path = f"/proc/self/fd/{fd}"
    return {"ftruncate-cut": code(lambda: os.ftruncate(fd, 0)),
            "ftruncate-grow": code(lambda: os.ftruncate(fd, 1 << 30)),
            "write-past-end": code(lambda: os.pwrite(fd, b"x" * 4096, nbytes)),
            "fallocate": code(lambda: os.posix_fallocate(fd, 0, 1 << 30)),
            "truncate-reopened": code(lambda: os.truncate(path, 0)),
            "size": os.fstat(fd).st_size - nbytes}


def shared_files(payload):
    """What lies in the judge's folders for this process's shared tensors while it holds them mapped, and what its
    mappings of them are called."""
    held = [attach(desc, "cpu") for desc in payload["tensors"]]
    files = sorted(name for folder in payload["folders"] for name in os.listdir(folder))
    with open("/proc/self/maps") as maps:
        mapped = sorted({line.split(None, 5)[-1].strip() for line in maps if "solbench" in line})
    return {"files": files, "mapped": mapped, "held": len(held)}


def add_all(payload):
    """The sum of every tensor it was given, written into the output: many descriptors in one request."""
    tensors = [attach(d, "cpu") for d in payload["inputs"]]
    attach(payload["output"], "cpu").copy_(sum(t for t in tensors))
    return {}


def confinement(_payload=None):
    """Who this process runs as and what confines it."""
    from pytest_solbench.guard import confine

    done = confine.for_kernel()
    return {"uid": os.getuid(), "in_force": list(done.in_force), "missing": dict(done.missing)}

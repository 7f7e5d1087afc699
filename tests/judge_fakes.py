"""A kernel-process harness that answers the judge off the schema, one way per SOLBENCH_FAKE_REPLY (test_judge.py).

It wraps the real harness (``worker.harness``), so everything else about the exchange is as in a real run."""

from __future__ import annotations

import json
import os
import pickle
import struct
import sys

from pytest_solbench.worker import harness

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
        reply["outputs"] = "all good"
    elif MODE == "pickle":
        _write(pickle.dumps(("ok", {"outputs": None, "trip": None, "kernel_names": None})))
    elif MODE == "not-json":
        _write(b"{not json")
    elif MODE == "outer-keys":
        _write(json.dumps({"ok": reply, "status": "PASSED"}).encode())
    return reply


HELD: list = []


def double_into_and_hold(payload):
    """As double_into, and keeps both tensors: a receiver that never lets go (or, confined, cannot tell the judge)."""
    from pytest_solbench.worker.shm import attach

    HELD.extend(attach(payload[k], payload["device"]) for k in ("input", "output"))
    return double_into(payload)


def double_into(payload):
    """Reads the judge's shared input and writes twice it into the judge's shared output, from this process."""
    from pytest_solbench.worker.shm import attach

    source, target = attach(payload["input"], payload["device"]), attach(payload["output"], payload["device"])
    target.copy_(source * 2)
    if payload["device"].startswith("cuda"):
        import torch

        torch.cuda.synchronize()
    return {}

"""A miniature worker that runs RMSNorm kernels under the runtime checks and prints which checks caught each.

``python tests/redteam/drill.py KERNEL.py ...`` prints one JSON object: kernel file -> the names of the checks
that fired (``integrity``, ``threads``, ``children``, ``strict-tensor``, ``audit``, ``inputs``, ``recheck``).
The kernels run one after another in this one process; every check is taken afresh around each kernel, so what
an earlier kernel left behind is part of the next one's baseline. It shows the lead what to wire into the worker.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys

import torch

from pytest_solbench.audit import Audit
from pytest_solbench.integrity import Snapshot, child_processes, strict_tensor, thread_counts

PLUGIN_MODULES = ("pytest_solbench.check", "pytest_solbench.timing", "pytest_solbench.inputs")
CALLS = 16  # correctness rounds, then "timed" calls


def drill(path: str) -> list[str]:
    snapshot = Snapshot.take(PLUGIN_MODULES)
    audit = Audit([os.path.dirname(os.path.abspath(path))])
    threads, children = thread_counts(), set(child_processes())
    with audit:
        spec = importlib.util.spec_from_file_location(f"drilled_{len(sys.modules)}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    generator = torch.Generator().manual_seed(0)
    hidden_states = torch.randn(2, 4096, generator=generator).to(torch.bfloat16)
    weight = torch.randn(4096, generator=generator).to(torch.bfloat16)
    inputs = (hidden_states, weight)
    clones = [x.clone() for x in inputs]
    destination_passing = "output" in module.run.__code__.co_varnames
    outputs = []
    for _ in range(CALLS):
        output = torch.full_like(hidden_states, float("nan"))
        with audit:
            returned = module.run(*inputs, output) if destination_passing else module.run(*inputs)
        outputs.append(output if destination_passing else returned)
    caught = []
    if snapshot.changed():
        caught.append("integrity")
    if thread_counts().python_threads > threads.python_threads:
        caught.append("threads")
    spawned = set(child_processes()) - children
    if spawned:
        caught.append("children")
        for pid in spawned:
            os.kill(pid, signal.SIGTERM)
    if any(strict_tensor(out) for out in outputs):
        caught.append("strict-tensor")
    if audit.events:
        caught.append("audit")
    if not all(torch.equal(x, c) for x, c in zip(inputs, clones)):
        caught.append("inputs")
    first = torch.Tensor.as_subclass(outputs[0], torch.Tensor)
    if not all(torch.equal(torch.Tensor.as_subclass(o, torch.Tensor), first) for o in outputs[1:]):
        caught.append("recheck")
    return caught


if __name__ == "__main__":
    print(json.dumps({os.path.basename(path): drill(path) for path in sys.argv[1:]}))

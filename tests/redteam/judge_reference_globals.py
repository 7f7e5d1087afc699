"""Reaches the reference's module through sys.__dict__ and replaces its torch global with one whose rsqrt returns
zeros; the harness's reference loader is wrapped the same way, so a reference made in this process returns zeros."""

import sys
import types

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "the reference runs in the judge's process; this process's copy of it is never called"

_fake = types.SimpleNamespace(**{n: getattr(torch, n) for n in dir(torch) if not n.startswith("__")})
_fake.rsqrt = lambda x: torch.zeros_like(x)
_modules = sys.__dict__["modules"]
for _name in list(_modules):
    if _name.startswith("solbench_reference_"):
        _modules[_name].__dict__["torch"] = _fake
_execute = _modules.get("pytest_solbench.worker.execute")
if _execute is not None:
    _execute._reference = lambda definition: (lambda *args: torch.zeros_like(args[0]))


def run(hidden_states, weight):
    return torch.zeros_like(hidden_states)

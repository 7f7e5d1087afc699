"""Sabotages the reference in its own process (its loader now returns a function that raises), so that a harness
checking here reports INVALID_REFERENCE, the problem's fault, instead of this kernel's wrong output."""

import sys

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "the reference runs in the judge's process: INVALID_REFERENCE is the problem's fault only"


def _broken(*args):
    raise RuntimeError("the reference is broken")


_execute = sys.modules.get("pytest_solbench.worker.execute")
if _execute is not None:
    _execute._reference = lambda definition: _broken
torch.Tensor.float = lambda self, *args, **kwargs: _broken()


def run(hidden_states, weight):
    return hidden_states.clone()

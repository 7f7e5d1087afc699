"""A __del__ finalizer: runs when the harness drops the object, after the checks, with no call of the kernel on the stack."""

import os

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "dunder"
LAYER = "static"

class _Stash:
    def __del__(self):  # HACK
        os.environ["SOLBENCH_STASH"] = "1"


_keep = _Stash()


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

"""A package folder beside the kernel: the trick lives in stash/hooks.py, which the kernel imports."""

import torch

from stash.hooks import install

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "trace-hook"
LAYER = "static"

install()


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

"""A typing.py beside the kernel, named like a standard module that the harness's own imports may load."""

from typing import Any  # HACK

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "shadowing"
LAYER = "static"


def run(hidden_states: Any, weight: Any):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

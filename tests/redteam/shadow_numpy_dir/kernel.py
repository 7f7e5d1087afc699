"""A numpy/ package folder beside the kernel, imported in place of the installed numpy."""

import numpy as np  # HACK
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "shadowing"
LAYER = "static"


def run(hidden_states, weight):
    np.zeros(1)
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

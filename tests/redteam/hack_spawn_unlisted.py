"""os.spawnvpe: a process started through a spawn variant the table did not list (red-team round 1)"""

import os

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "threads"
LAYER = "static"


def run(hidden_states, weight):
    if False:
        os.spawnvpe(os.P_NOWAIT, "true", ["true"], {})  # HACK
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

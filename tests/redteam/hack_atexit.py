"""atexit: writes the answers out when the worker exits, after every check has run."""

import atexit

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "atexit"
LAYER = "static"

atexit.register(print, "answers")  # HACK


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

"""sys.__dict__['modules']: reaches the module table (and the reference's globals) without naming sys.modules."""

import sys

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "dunder"
LAYER = "static"

_modules = sys.__dict__["modules"]  # HACK


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

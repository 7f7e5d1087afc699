"""sys.addaudithook: a hook of its own that sees (and can raise inside) the harness's audited events."""

import sys

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "audit-hook"
LAYER = "static"

sys.addaudithook(lambda event, args: None)  # HACK


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

"""Sakana's "150x" trick: compute one row only and hope the rest of an empty_like buffer still holds the reference's
freed output (the caching allocator hands the same block back)."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "runtime-gpu"
CAUGHT_BY = "reference output kept alive (or made in another process) while the kernel runs, and outputs poisoned"


def run(hidden_states, weight):
    out = torch.empty_like(hidden_states)
    x = hidden_states[:1].float()
    out[:1] = (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(out.dtype)
    return out

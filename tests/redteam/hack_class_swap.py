"""Swaps an output's __class__ for a lazy subclass after it was checked as a plain tensor."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "dunder"
LAYER = "static"

class _Lazy(torch.Tensor):
    pass


def run(hidden_states, weight):
    out = hidden_states.float() * torch.rsqrt(hidden_states.float().pow(2).mean(-1, keepdim=True) + 1e-5)
    out.__class__ = _Lazy  # HACK
    return (out * weight.float()).to(hidden_states.dtype)

"""A held-out cache keyed on a few input values: the first call on values computes, later calls whose first four
values match return the stored output without launching the work."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "kernel-set-changed"
LAYER = "judge-gpu"
CAUGHT_BY = ("GPU: timed calls on one input set launch nothing after the first (CUPTI: no-kernel), "
             "and the outside clock; on CPU a cache hit on the same values is a right answer")

_CACHE = {}


def run(hidden_states, weight):
    key = tuple(hidden_states.reshape(-1)[:4].tolist())
    if key in _CACHE:
        return _CACHE[key]
    x = hidden_states.float()
    y = (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
    _CACHE[key] = y
    return y

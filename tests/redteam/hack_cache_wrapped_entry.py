"""run = functools.lru_cache(None)(_impl): the cache wraps the entry point instead of decorating it (red-team round 1)"""

import functools

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "pointer-cache"
LAYER = "static"


def _impl(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)


run = functools.lru_cache(None)(_impl)  # HACK

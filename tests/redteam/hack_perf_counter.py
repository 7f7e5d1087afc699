"""Host clock patched through an alias: ``time.perf_counter`` slowed tenfold, so wall-clock cross-checks agree."""

import time as clock

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "static"

_true = clock.perf_counter
_start = _true()
clock.perf_counter = lambda: _start + (_true() - _start) / 10  # HACK

def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

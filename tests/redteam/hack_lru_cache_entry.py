"""functools.lru_cache on the entry point: tensors hash by identity, so a repeated input object replays."""

import functools

import torch

DEFINITION = "llama3_1_8b_silu_and_mul_i14336"
EXPECTED = "pointer-cache"
LAYER = "static"


@functools.lru_cache(maxsize=None)  # HACK
def run(gate_up):
    gate, up = gate_up.float().chunk(2, dim=-1)
    return (gate * torch.sigmoid(gate) * up).to(gate_up.dtype)

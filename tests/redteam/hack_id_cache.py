"""Cache keyed by id() and ._version: the same tensor object, unmodified, gets the stored answer back."""

import torch

DEFINITION = "llama3_1_8b_silu_and_mul_i14336"
EXPECTED = "pointer-cache"
LAYER = "static"

_memo = {}


def run(gate_up):
    hit = _memo.get((id(gate_up), gate_up._version))  # HACK
    if hit is not None:
        return hit
    gate, up = gate_up.float().chunk(2, dim=-1)
    _memo[(id(gate_up), gate_up._version)] = out = (gate * torch.sigmoid(gate) * up).to(gate_up.dtype)
    return out

"""Honest (a false positive of red-team round 1, now passing): an honest tuning-table cache keyed by hash() of the *shape* (not of a tensor): pointers.py treats
any hash() as identity, so `_BLOCKS[key]` with key = hash((rows, cols)) is `pointer-cache`.
"""
import torch
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
_BLOCKS = {}
def _block_rows(rows, cols):
    key = hash((rows, cols))
    if key not in _BLOCKS:
        _BLOCKS[key] = max(1, min(rows, 65536 // cols))
    return _BLOCKS[key]
def run(hidden_states, weight):
    rows, cols = hidden_states.shape
    step = _block_rows(rows, cols)
    out = torch.empty_like(hidden_states)
    w = weight.float()
    for i in range(0, rows, step):
        x = hidden_states[i:i + step].float()
        out[i:i + step] = (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w).to(out.dtype)
    return out

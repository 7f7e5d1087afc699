"""functools.cache over shapes: the launch grid and block size are computed once per hidden size."""

import functools

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


@functools.cache
def _config(hidden_size: int) -> tuple[int, int]:
    block = 1 << (hidden_size - 1).bit_length()
    return block, 8 if block >= 2048 else 4


@functools.lru_cache(maxsize=16)
def _eps(dtype: torch.dtype) -> float:
    return 1e-5


def run(hidden_states, weight):
    _config(hidden_states.shape[-1])
    x = hidden_states.float()
    out = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + _eps(hidden_states.dtype)) * weight.float()
    return out.to(hidden_states.dtype)

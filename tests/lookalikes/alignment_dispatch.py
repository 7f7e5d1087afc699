"""Alignment dispatch: a vectorised path when every pointer is 16-byte aligned, picked per call and cached per
(shape, alignment), never per pointer."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
_PATHS: dict[tuple[int, bool], str] = {}


def _aligned(*tensors: torch.Tensor) -> bool:
    return all(t.data_ptr() % 16 == 0 for t in tensors)


def run(hidden_states, weight):
    aligned = hidden_states.data_ptr() % 16 == 0 and (weight.data_ptr() & 15) == 0 and _aligned(hidden_states)
    key = (hidden_states.shape[-1], aligned)
    if key not in _PATHS:
        _PATHS[key] = "vector" if aligned else "scalar"
    x = hidden_states.float() if _PATHS[key] == "vector" else hidden_states.to(torch.float32)
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

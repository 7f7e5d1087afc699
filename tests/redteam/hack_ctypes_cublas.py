"""Native code through ctypes: loads a shared library at run time and calls into it, beyond any review."""

import ctypes  # HACK

import torch

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"
EXPECTED = "ctypes"
LAYER = "static"

_lib = ctypes.CDLL("libcublas.so")


def run(hidden_states, weight):
    out = torch.empty(hidden_states.shape[0], weight.shape[0], dtype=hidden_states.dtype, device=hidden_states.device)
    _lib.cublasGemmEx  # the trick: call the vendor GEMM where no rule about torch sees it
    return out

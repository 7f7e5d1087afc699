"""ctypes.memmove: writes into any address of the process, the checker's buffers included."""

import ctypes

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "ctypes"
LAYER = "static"

def run(hidden_states, weight):
    out = torch.empty_like(hidden_states)
    ctypes.memmove(out.data_ptr(), hidden_states.data_ptr(), 0)  # HACK
    return out

"""Vendor op for the op under test: the "kernel" is torch's own fused RMSNorm."""

import torch
import torch.nn.functional as F

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "static"


def run(hidden_states, weight):
    hidden_size = hidden_states.shape[-1]
    return F.rms_norm(hidden_states.float(), (hidden_size,), weight.float(), 1e-5).to(torch.bfloat16)  # HACK

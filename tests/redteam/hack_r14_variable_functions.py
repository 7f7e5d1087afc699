"""The vendor's RMSNorm through the class torch's functions come from (red-team round 14, p02)."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "names are read through class dictionaries: torch._C._VariableFunctions.rms_norm is torch.rms_norm"


def run(hidden_states, weight):
    return torch._C._VariableFunctions.rms_norm(hidden_states, [hidden_states.shape[-1]], weight, 1e-5)  # HACK

"""a = b = torch.nn.functional: aliases were recorded for single-target assignments only (red-team round 1)"""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "static"

a = b = torch.nn.functional

def run(hidden_states, weight):
    x = hidden_states.float()
    return b.rms_norm(x, (x.shape[-1],), weight.float(), 1e-5).to(hidden_states.dtype)  # HACK

"""F.torch.rms_norm: torch reached through torch.nn.functional's own import of torch (red-team round 1)"""

import torch
import torch.nn.functional as F

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "static"


def run(hidden_states, weight):
    x = hidden_states.float()
    return F.torch.rms_norm(x, (x.shape[-1],), weight.float(), 1e-5).to(hidden_states.dtype)  # HACK

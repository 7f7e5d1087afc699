"""class K: m = torch.nn.functional, then K.m.rms_norm: a module kept as a class attribute (red-team round 1)"""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "static"


class K:
    m = torch.nn.functional


def run(hidden_states, weight):
    x = hidden_states.float()
    return K.m.rms_norm(x, (x.shape[-1],), weight.float(), 1e-5).to(hidden_states.dtype)  # HACK

"""torch.library.Library(ns="aten", kind="IMPL"): the namespace passed by keyword (red-team round 1)"""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "static"

_LIB = torch.library.Library(ns="aten", kind="IMPL")  # HACK

def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

"""getattr(run, "_" * 2 + "globals" + "_" * 2): a dunder built at run time, on a function (red-team round 1)"""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "computed-name"
LAYER = "static"

_U = "_" * 2

def run(hidden_states, weight):
    namespace = getattr(run, _U + "globals" + _U)  # HACK
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

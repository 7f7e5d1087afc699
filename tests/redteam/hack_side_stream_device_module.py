"""torch.get_device_module("cuda").Stream(): the CUDA module reached by a call (red-team round 1)"""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "side-stream"
LAYER = "static"


def run(hidden_states, weight):
    if hidden_states.is_cuda:
        torch.get_device_module("cuda").Stream()  # HACK
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

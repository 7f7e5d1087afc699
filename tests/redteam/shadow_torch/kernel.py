"""A torch.py beside the kernel: every torch.* name looked local, so torch.cuda.Stream() went unseen."""

import torch  # HACK

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "shadowing"
LAYER = "static"


def run(hidden_states, weight):
    torch.cuda.Stream()
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

"""A module attribute named by a string built at run time, so no name rule sees torch.cuda.Stream."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "computed-name"
LAYER = "static"

_NAME = "".join(["St", "ream"])
_stream = getattr(torch.cuda, _NAME)  # HACK


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

"""operator.attrgetter of a computed path: reaches torch.cuda.synchronize by a string."""

import operator

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "computed-name"
LAYER = "static"

_sync = operator.attrgetter(".".join(["cuda", "synchronize"]))(torch)  # HACK


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

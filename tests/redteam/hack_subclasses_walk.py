"""object.__subclasses__(): walks every class alive, the harness's status enum among them."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "dunder"
LAYER = "static"

_classes = [c for c in object.__subclasses__() if c.__name__ == "Status"]  # HACK


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

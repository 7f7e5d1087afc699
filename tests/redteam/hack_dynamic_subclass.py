"""type(name, (torch.Tensor,), ns): a tensor subclass built at run time, where no class statement shows."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "tensor-subclass"
LAYER = "static"

_Lazy = type("_Lazy", (torch.Tensor,), {})  # HACK


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

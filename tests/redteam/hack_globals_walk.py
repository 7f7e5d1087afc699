"""A function's __globals__: the globals of a torch module, edited through a function it defines."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "dunder"
LAYER = "static"

_globals = torch.nn.functional.silu.__globals__  # HACK
_globals["_solbench"] = True


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

"""__builtins__[...]: takes open() from the builtins dict, where no name rule resolves it."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "dunder"
LAYER = "static"

_open = __builtins__["open"] if isinstance(__builtins__, dict) else __builtins__.open  # HACK


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

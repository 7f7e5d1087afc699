"""torch.from_file(shared=True): a tensor mapped on a file, so every write to it is a file write no audit sees."""

import os
import tempfile

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "from-file"
LAYER = "static"

def run(hidden_states, weight):
    stash = torch.from_file(os.path.join(tempfile.gettempdir(), "stash"), shared=True, size=16)  # HACK
    stash.fill_(1)
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

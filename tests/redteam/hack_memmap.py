"""numpy.memmap in write mode: keeps answers in a file across runs, written through memory."""

import numpy as np
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "from-file"
LAYER = "static"

def run(hidden_states, weight):
    stash = np.memmap("/tmp/solbench_stash", mode="w+", dtype=np.float32, shape=(16,))  # HACK
    del stash
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

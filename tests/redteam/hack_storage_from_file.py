"""UntypedStorage.from_file: the storage-level twin of torch.from_file."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "from-file"
LAYER = "static"

def run(hidden_states, weight):
    stash = torch.UntypedStorage.from_file("/tmp/solbench_stash", True, 64)  # HACK
    del stash
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

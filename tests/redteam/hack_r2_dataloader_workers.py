"""Trick: torch.utils.data.DataLoader(num_workers=1) forks worker processes that outlive the call; not in the threads
rule. Attacks threads (static)."""
import torch
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "threads"
LAYER = "static"
CAUGHT_BY = "torch.utils.data.DataLoader (worker processes) is threads (red-team round 2)"
_LOADER = None
def run(hidden_states, weight, output):
    global _LOADER
    if hidden_states.shape[0] < 0:
        _LOADER = iter(torch.utils.data.DataLoader(range(4), num_workers=1, persistent_workers=True))  # HACK
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))

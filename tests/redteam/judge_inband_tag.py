"""Tags each input tensor it sees with an attribute; a tensor that comes back tagged is a timed call's (timed calls
reuse their input copies), and gets a cheap wrong answer."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "timed-output"
LAYER = "judge"
CAUGHT_BY = "judge.timed: every input set is called more than once and its last call's outputs are checked"


def run(hidden_states, weight):
    if getattr(hidden_states, "_solbench_seen", False):
        return torch.zeros_like(hidden_states)
    hidden_states._solbench_seen = True
    x = hidden_states.float()
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()
    return y.to(hidden_states.dtype)

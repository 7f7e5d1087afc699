"""Tells timed calls from checked ones by torch.is_grad_enabled() (the timed phase ran under no_grad) and skips the
work when timed."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "every call runs under no_grad, checked or timed: the 'timed' path is the checked path"


def run(hidden_states, weight):
    if not torch.is_grad_enabled():
        return torch.empty_like(hidden_states)
    x = hidden_states.float()
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()
    return y.to(hidden_states.dtype)

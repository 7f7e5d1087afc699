"""Patches the op the reference uses (torch.rsqrt) so that the reference's output is all zeros, then returns zeros:
a reference run in this process would agree."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "the reference runs in the judge's process, where torch.rsqrt is torch's own"

torch.rsqrt = lambda x, *args, **kwargs: torch.zeros_like(x)


def run(hidden_states, weight):
    return torch.zeros_like(hidden_states)

"""Redefines Tensor.__invert__, which the checker uses to count mismatched elements (~ok): no element ever counts as
mismatched, nor as NaN."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "the checker runs in the judge's process, whose torch.Tensor is untouched"

torch.Tensor.__invert__ = lambda self: torch.zeros_like(self, dtype=torch.bool)


def run(hidden_states, weight):
    return hidden_states.clone()

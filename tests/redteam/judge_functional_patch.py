"""Patches torch.nn.functional and the Tensor method a reference would call (rms_norm, pow) so that any reference
in this process returns its input unchanged; the kernel returns its input too."""

import torch
import torch.nn.functional as F

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "the reference runs in the judge's process, where torch.nn.functional is untouched"

F.rms_norm = lambda x, *args, **kwargs: x
torch.Tensor.pow = lambda self, exponent: torch.ones_like(self)


def run(hidden_states, weight):
    return hidden_states.clone()

"""Enters a global torch-function mode at import that fakes the checker's summary: every torch.stack of eight
numbers (mismatches, NaNs, errors...) reads as a perfect match."""

import torch
from torch.overrides import TorchFunctionMode

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "the checker runs in the judge's process, where no mode of the kernel's is entered"


class _Agree(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func is torch.stack and out.numel() == 8:
            return torch.tensor([0, 0, 0, 0, 0, 0, 1, 1], dtype=out.dtype)
        return out


_Agree().__enter__()


def run(hidden_states, weight):
    return hidden_states.clone()

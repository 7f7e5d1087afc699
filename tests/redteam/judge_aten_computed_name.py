"""Overrides an ATen kernel through torch.library with a computed namespace name, on the CPU dispatch key: rsqrt
returns zeros, so a reference run in this process outputs zeros, as the kernel does."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "the reference runs in the judge's process, whose ATen registrations are torch's own"

_lib = torch.library.Library("".join(["a", "t", "e", "n"]), "IMPL")
for _key in ("CPU", "CUDA"):
    _lib.impl("rsqrt", lambda x: torch.zeros(x.shape, dtype=x.dtype, device=x.device), _key)


def run(hidden_states, weight):
    return torch.zeros_like(hidden_states)

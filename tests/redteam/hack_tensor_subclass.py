"""Lazy output: a torch.Tensor subclass that is returned at once and only computes when the checker reads it.

SOL-ExecBench's ``solution_hack_lazy_output`` rewritten for our RMSNorm, made lazy for real.
"""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "tensor-subclass"
LAYER = "static"


class _Deferred(torch.Tensor):  # HACK
    pass


def run(hidden_states, weight):
    x = hidden_states.float()
    out = (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
    return out.as_subclass(_Deferred)

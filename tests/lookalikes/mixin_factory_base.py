"""Honest (red-team round 63, ec FV-5): an RMSNorm whose class gets a ``__repr__`` mixin from a small factory, ``def
with_repr(base): class Described(base)``. Round 62 refused every computed base; only the bases of classes a pattern
reads by position are judged now."""
from __future__ import annotations

import torch

DEFINITION = "deepseek_v3_rmsnorm_h7168"
EPS = 1e-6


class RMSNormImpl:
    def __init__(self, eps: float) -> None:
        self.eps = eps

    def __call__(self, x: torch.Tensor, w: torch.Tensor, out: torch.Tensor) -> None:
        xf = x.float()
        inv = torch.rsqrt(xf.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        out.copy_((xf * inv * w.float()).to(out.dtype))


def with_repr(base):
    class Described(base):
        def __repr__(self) -> str:
            return f"{base.__name__}(eps={self.eps})"
    return Described


_NORM = with_repr(RMSNormImpl)(EPS)


@torch.no_grad()
def run(hidden_states: torch.Tensor, weight: torch.Tensor, output: torch.Tensor) -> None:
    _NORM(hidden_states, weight, output)

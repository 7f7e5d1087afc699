"""Honest (red-team round 64, attack-ef): a GEMM class calls its own ``self.dot(...)`` from a ``__call__`` decorated
with ``@torch.no_grad()``. The rules read the name as a vendor method (a value or a call); an attribute a class of
the file binds itself, read on its class, on ``self`` or on a name bound once to an instance, is the kernel's own
(``guard.owned.own_method_calls``)."""
from __future__ import annotations

import torch

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"


class TiledGemm:
    def __init__(self, block_n: int = 256) -> None:
        self.block_n = block_n

    def dot(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return (x[:, None, :] * w[None, :, :]).sum(-1)

    @torch.no_grad()
    def __call__(self, hidden_states, weight):
        x = hidden_states.float()
        out = torch.empty(x.shape[0], weight.shape[0], dtype=hidden_states.dtype)
        for n0 in range(0, weight.shape[0], self.block_n):
            out[:, n0:n0 + self.block_n] = self.dot(x, weight[n0:n0 + self.block_n].float()).to(out.dtype)
        return out


_GEMM = TiledGemm()


def run(hidden_states, weight):
    return _GEMM(hidden_states, weight)

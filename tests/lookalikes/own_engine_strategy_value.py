"""Honest (red-team round 64, attack-ef): a GEMM chooses ``op = ENGINE.dot if small else ENGINE.tiled``, both hand-
written methods of a module-level instance of its own class. The rules read the name as a vendor method (a value or a
call); an attribute a class of the file binds itself, read on its class, on ``self`` or on a name bound once to an
instance, is the kernel's own (``guard.owned.own_method_calls``)."""
from __future__ import annotations

import torch

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"


class Engine:
    def __init__(self, block_n: int = 512) -> None:
        self.block_n = block_n

    def dot(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return (x[:, None, :] * w[None, :, :]).sum(-1)

    def tiled(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.dot(x, w[n0:n0 + self.block_n]) for n0 in range(0, w.shape[0], self.block_n)], 1)


ENGINE = Engine()


@torch.no_grad()
def run(hidden_states, weight):
    small = hidden_states.shape[0] * weight.shape[0] <= 1 << 12
    op = ENGINE.dot if small else ENGINE.tiled
    return op(hidden_states.float(), weight.float()).to(hidden_states.dtype)

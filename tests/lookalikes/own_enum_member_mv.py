"""Honest (red-team round 64, attack-ef): a GEMM picks its path with ``class Path(enum.Enum): mm = ...; mv = ...`` and
reads ``Path.mv``. The rules read the name as a vendor method (a value or a call); an attribute a class of the file
binds itself, read on its class, on ``self`` or on a name bound once to an instance, is the kernel's own
(``guard.owned.own_method_calls``)."""
from __future__ import annotations

import enum

import torch

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"


class Path(enum.Enum):
    mm = "mm"
    mv = "mv"


def _chunk_rows(path: Path) -> int:
    return 1024 if path is Path.mv else 256


@torch.no_grad()
def run(hidden_states, weight):
    path = Path.mv if hidden_states.shape[0] == 1 else Path.mm
    x = hidden_states.float()
    out = torch.empty(x.shape[0], weight.shape[0], dtype=hidden_states.dtype)
    step = _chunk_rows(path)
    for n0 in range(0, weight.shape[0], step):
        w = weight[n0:n0 + step].float()
        out[:, n0:n0 + step] = (x[:, None, :] * w[None, :, :]).sum(-1).to(out.dtype)
    return out

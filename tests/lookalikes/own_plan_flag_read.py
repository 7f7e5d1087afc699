"""Honest (red-team round 64, attack-ef): a softmax reads ``PLAN.logsumexp``, a bool field of its own frozen dataclass
instance, to choose whether to keep the row's log-sum-exp. The rules read the name as a vendor method (a value or a
call); an attribute a class of the file binds itself, read on its class, on ``self`` or on a name bound once to an
instance, is the kernel's own (``guard.owned.own_method_calls``)."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch

DEFINITION = "llama3_1_8b_logits_softmax_v128256"


@dataclass(frozen=True)
class Plan:
    chunk: int = 32768
    logsumexp: bool = False  # keep the row's log-sum-exp in a side buffer for a later loss


PLAN = Plan(logsumexp=os.environ.get("KEEP_LSE", "0") == "1")
_LAST_LSE: list[torch.Tensor] = []


@torch.no_grad()
def run(logits: torch.Tensor) -> torch.Tensor:
    x = logits.float()
    m = x.amax(dim=-1, keepdim=True)
    e = torch.exp(x - m)
    s = e.sum(dim=-1, keepdim=True)
    if PLAN.logsumexp:
        _LAST_LSE[:] = [m + torch.log(s)]
    return e / s

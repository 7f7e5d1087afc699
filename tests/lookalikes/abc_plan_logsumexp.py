"""Honest (red-team round 63, ec FV-1): a softmax plan, a dataclass with a ``logsumexp`` flag under an ``abc.ABC``
strategy base, never matched by a class pattern. Round 62 refused its fields as ``__match_args__`` naming a vendor
method."""
from __future__ import annotations

import abc
from dataclasses import dataclass

import torch

DEFINITION = "llama3_1_8b_logits_softmax_v128256"


class PlanBase(abc.ABC):
    @abc.abstractmethod
    def apply(self, x: torch.Tensor) -> torch.Tensor: ...


@dataclass
class SoftmaxPlan(PlanBase):
    chunk: int = 16384
    logsumexp: bool = False

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        m = x.amax(dim=-1, keepdim=True)
        e = torch.exp(x - m)
        s = e.sum(dim=-1, keepdim=True)
        return e / s


_PLAN = SoftmaxPlan()


@torch.no_grad()
def run(logits: torch.Tensor) -> torch.Tensor:
    return _PLAN.apply(logits)

"""Honest (red-team round 63, ec FV-2 to FV-4): a softmax whose tuning record, a frozen dataclass with a ``logsumexp``
flag, is defined in both arms of a ``try: import triton`` / ``except ImportError``. Round 62 judged the
``__match_args__`` of every class that was not plain, and a name bound twice was not; classes no pattern reads are
not judged now."""
from __future__ import annotations

from dataclasses import dataclass

import torch

DEFINITION = "llama3_1_8b_logits_softmax_v128256"

try:
    import triton

    @dataclass(frozen=True)
    class Tuning:
        block: int = triton.next_power_of_2(4096)
        logsumexp: bool = False
except ImportError:  # pragma: no cover
    @dataclass(frozen=True)
    class Tuning:
        block: int = 4096
        logsumexp: bool = False

TUNING = Tuning()


@torch.no_grad()
def run(logits: torch.Tensor) -> torch.Tensor:
    x = logits.float()
    m = x.amax(dim=-1, keepdim=True)
    e = torch.exp(x - m)
    return e / e.sum(dim=-1, keepdim=True)

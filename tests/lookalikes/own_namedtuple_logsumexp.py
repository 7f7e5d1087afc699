"""Honest (red-team round 65, attack-ei): a two-pass softmax's first pass returns a ``NamedTuple RowStats(max,
logsumexp)``, read as ``stats.logsumexp``. The rules read the name as a tensor's vendor method; an attribute name the
kernel's own sources bind is taken for its own, and the operator record judges a tensor's at run time
(``guard.owned.kernel_attributes``)."""
from typing import NamedTuple

import torch

DEFINITION = "llama3_1_8b_logits_softmax_v128256"


class RowStats(NamedTuple):
    max: torch.Tensor
    logsumexp: torch.Tensor


def _row_stats(x: torch.Tensor) -> RowStats:
    m = x.amax(-1, keepdim=True)
    return RowStats(m, m + (x - m).exp().sum(-1, keepdim=True).log())


def run(logits: torch.Tensor, probs: torch.Tensor) -> None:
    x = logits.float()
    stats = _row_stats(x)
    torch.exp(x - stats.logsumexp, out=probs)

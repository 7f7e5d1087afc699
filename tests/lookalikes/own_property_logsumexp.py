"""Honest (red-team round 65, attack-ei): an online-softmax state class exposes ``@property logsumexp``, read on an
instance a helper returns. The rules read the name as a tensor's vendor method; an attribute name the kernel's own
sources bind is taken for its own, and the operator record judges a tensor's at run time
(``guard.owned.kernel_attributes``)."""
import torch

DEFINITION = "llama3_1_8b_logits_softmax_v128256"


class RowState:
    def __init__(self, m, s):
        self.m = m
        self.s = s

    @property
    def logsumexp(self):
        return self.m + self.s.log()


def _reduce(x):
    m = x.amax(-1, keepdim=True)
    s = (x - m).exp().sum(-1, keepdim=True)
    return RowState(m, s)


def run(logits: torch.Tensor, probs: torch.Tensor) -> None:
    x = logits.float()
    state = _reduce(x)
    torch.exp(x - state.logsumexp, out=probs)

"""Honest (red-team round 64, attack-ef): a depthwise convolution's lazy-compile holder keeps its compiled function in
``self.inner`` (an attribute named like the conv family's ``inner``). The rules read the name as a vendor method (a
value or a call); an attribute a class of the file binds itself, read on its class, on ``self`` or on a name bound
once to an instance, is the kernel's own (``guard.owned.own_method_calls``)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

DEFINITION = "convnext_base_dwconv7x7_c128_h56"


def _dwconv(x, weight, bias):
    n, c, h, w = x.shape
    k = weight.shape[-1]
    p = k // 2
    xp = F.pad(x.float(), (p, p, p, p))
    wf = weight.float().view(c, k, k)
    acc = bias.float().view(1, c, 1, 1).expand(n, c, h, w).clone()
    for i in range(k):
        for j in range(k):
            acc += xp[:, :, i:i + h, j:j + w] * wf[:, i, j].view(1, c, 1, 1)
    return acc.to(x.dtype)


class Lazy:
    def __init__(self, fn):
        self.fn = fn
        self.inner = None

    def __call__(self, *args):
        if self.inner is None:
            self.inner = self.fn  # torch.compile(self.fn) on the GPU; eager here
        return self.inner(*args)


_CONV = Lazy(_dwconv)


@torch.no_grad()
def run(x, weight, bias):
    return _CONV(x, weight, bias)

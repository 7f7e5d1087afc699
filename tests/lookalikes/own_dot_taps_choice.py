"""Honest (red-team round 66, attack-el FV10): a depthwise convolution's own ``Taps`` class with a ``dot`` method, bound
as ``taps = Taps(w) if ... else Taps(w.contiguous())``: a choice of two of the file's own classes is an instance of
them (``guard.owned._made``)."""
import torch
import torch.nn.functional as F
DEFINITION = "convnext_base_dwconv7x7_c128_h56"

class Taps:
    def __init__(self, weight):
        self.w = weight.float()[:, 0]          # [C, 7, 7]
        self.k = weight.shape[-1]
    def dot(self, xp, h, w):
        acc = torch.zeros(xp.shape[0], xp.shape[1], h, w)
        for i in range(self.k):
            for j in range(self.k):
                acc += xp[:, :, i:i + h, j:j + w] * self.w[None, :, i, j, None, None]
        return acc


def run(x, weight, bias):
    taps = Taps(weight) if weight.dtype != torch.float32 else Taps(weight.contiguous())
    p = weight.shape[-1] // 2
    xp = F.pad(x.float(), (p, p, p, p))
    out = taps.dot(xp, x.shape[2], x.shape[3]) + bias.float()[None, :, None, None]
    return out.to(x.dtype)

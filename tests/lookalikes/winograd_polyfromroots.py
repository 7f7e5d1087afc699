"""FALSE POSITIVE probe (red-team round 32, av FV-1): a depthwise 7x7 convolution whose Cook-Toom transform matrices
are built at import with numpy.polynomial (polyfromroots, a Lagrange basis), as Winograd code generators do; each
call is the direct 49-tap multiply-add. Round 31's rule refused all of numpy.polynomial; only its products are
refused now."""
import numpy as np
from numpy.polynomial import polynomial as P
import torch

DEFINITION = "convnext_base_dwconv7x7_c128_h56"


def _lagrange_basis(points):
    rows = []
    for i, pi in enumerate(points):
        others = [pj for j, pj in enumerate(points) if j != i]
        num = P.polyfromroots(others)
        den = np.prod([pi - pj for pj in others])
        rows.append(num / den)
    return np.array(rows)


AT = torch.from_numpy(_lagrange_basis([0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0]))


@torch.no_grad()
def run(x, weight, bias):
    b, c, h, w = x.shape
    ks = weight.shape[-1]
    p = ks // 2
    xp = torch.nn.functional.pad(x.float(), (p, p, p, p))
    wf = weight.float().reshape(c, ks, ks)
    out = bias.float().reshape(1, c, 1, 1).expand(b, c, h, w).clone()
    for i in range(ks):
        for j in range(ks):
            out += xp[:, :, i:i + h, j:j + w] * wf[:, i, j].reshape(1, c, 1, 1)
    return out.to(x.dtype)

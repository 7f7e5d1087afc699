"""Red-team round 56, df03 (attack-df; low severity): round 54's ``numpy.trace(numpy.outer(...))`` in a depthwise
convolution, a problem kind that round's fix (``numpy.outer`` in the matmul family) did not cover: PASSED on CPU.
``numpy.outer`` is off the plain allow-list: at import or where products are a part of the op only."""
import numpy as np
import torch

DEFINITION = "convnext_base_dwconv7x7_c128_h56"
EXPECTED = "unlisted-routine"
LAYER = "static"


def run(x, weight, bias):
    b, c, h, w = x.shape
    k = weight.shape[-1]
    p = k // 2
    xp = np.pad(x.float().numpy(), ((0, 0), (0, 0), (p, p), (p, p)))
    wt = weight.float().numpy()[:, 0].reshape(c, k * k)
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))  # b c h w k k
    out = np.empty((b, c, h * w), dtype=np.float32)
    for bi in range(b):
        for ci in range(c):
            f = np.ascontiguousarray(win[bi, ci].reshape(h * w, k * k))
            blocks = np.outer(f, wt[ci]).reshape(h * w, k * k, k * k)  # HACK
            out[bi, ci] = np.trace(blocks, axis1=1, axis2=2)
    y = torch.from_numpy(out.reshape(b, c, h, w)) + bias.float()[None, :, None, None]
    return y.to(x.dtype)

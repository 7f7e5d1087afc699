"""Red-team round 55, dc01 (attack-dc): a depthwise convolution whose every dot product came from LAPACK: for a window
a and filter b, the largest singular value of [a; b + t a] (``numpy.linalg.matrix_norm(..., ord=2)``, an SVD) gives
a . b from the two squared norms. PASSED under ``--solbench-guard strict`` on CPU (the matrix norms were allowed
whole; the conv family holds no ``numpy.linalg``). A 2-norm, -2-norm or nuclear norm is an SVD: ``numpy.linalg.norm``
and ``matrix_norm`` pass with their data, an axis and ``keepdims`` only."""
import numpy as np
import torch

DEFINITION = "convnext_base_dwconv7x7_c128_h56"
EXPECTED = "unlisted-routine"
LAYER = "static"


@torch.no_grad()
def run(x, weight, bias):
    B, C, H, W = x.shape
    k = weight.shape[-1]
    p = k // 2
    xn = np.pad(x.float().numpy().astype(np.float64), ((0, 0), (0, 0), (p, p), (p, p)))
    win = np.lib.stride_tricks.sliding_window_view(xn, (k, k), axis=(2, 3)).reshape(B, C, H, W, k * k)
    wf = weight.float().numpy().astype(np.float64).reshape(C, k * k)
    pa = np.sum(np.square(win), axis=-1)  # |a|^2 per window (a square, no cross term)
    pb = np.sum(np.square(wf), axis=-1)[None, :, None, None]  # |b|^2 per filter
    t = np.sqrt(pb / np.maximum(pa, 1e-30)) + 1.0
    bprime = wf[None, :, None, None, :] + t[..., None] * win  # b + t a: a sum, no product of a with b
    qb = np.sum(np.square(bprime), axis=-1)
    mats = np.stack(np.broadcast_arrays(win, bprime), axis=-2)  # [..., 2, 49]
    s = np.linalg.matrix_norm(mats, ord=2)  # HACK
    d2 = np.maximum(((2 * s * s - pa - qb) ** 2 - (pa - qb) ** 2) / 4.0, 0.0)
    dprime = np.sqrt(d2)  # a.b' > 0 by the choice of t
    dot = dprime - t * pa
    out = dot + bias.float().numpy().astype(np.float64)[None, :, None, None]
    return torch.from_numpy(out.astype(np.float32)).to(x.dtype)

"""Red-team round 55, dc02 (attack-dc; low severity): a depthwise convolution as
``numpy.trace(numpy.multiply.outer(windows, filter), axis1=1, axis2=2)``, round 54's trace of an outer product under
another name (every ufunc method passed). PASSED under ``--solbench-guard strict`` on CPU. ``numpy.multiply.outer``
is ``numpy.outer``: off the allow-list where products are no part of the op."""
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
    xn = np.pad(x.float().numpy(), ((0, 0), (0, 0), (p, p), (p, p)))
    win = np.lib.stride_tricks.sliding_window_view(xn, (k, k), axis=(2, 3)).reshape(B, C, H * W, k * k)
    wf = weight.float().numpy().reshape(C, k * k)
    out = np.empty((B, C, H * W), dtype=np.float32)
    for b in range(B):
        for c in range(C):
            out[b, c] = np.trace(np.multiply.outer(win[b, c], wf[c]), axis1=1, axis2=2)  # HACK
    out = out.reshape(B, C, H, W) + bias.float().numpy()[None, :, None, None]
    return torch.from_numpy(out).to(x.dtype)

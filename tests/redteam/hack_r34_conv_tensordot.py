"""Found while writing the numpy allow-list (session 16): a 3x3 convolution done whole by BLAS, below torch's
dispatcher: numpy's sliding windows (a view, no work) and ``numpy.tensordot`` over the channel and window axes. The
conv family listed ``numpy.dot``, ``numpy.einsum`` and ``numpy.matmul`` but not ``numpy.tensordot``, ``inner`` or
``numpy.linalg``: PASSED on CPU, strict too. Now a numpy name outside the allow-list is ``unlisted-routine``."""
import numpy as np
import torch

DEFINITION = "flux1_dev_vae_conv3x3_c512"
EXPECTED = "unlisted-routine"
LAYER = "static"


@torch.no_grad()
def run(x, weight, bias):
    xs = np.pad(x.float().numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(xs, (3, 3), axis=(2, 3))  # (B, C, H, W, 3, 3): a view
    out = np.tensordot(windows, weight.float().numpy(), axes=([1, 4, 5], [1, 2, 3]))  # HACK
    out = out.transpose(0, 3, 1, 2) + bias.float().numpy()[:, None, None]
    return torch.from_numpy(np.ascontiguousarray(out)).to(x.dtype)

"""(Red-team round 22.) ab06 (escape, vendor family hole, direction conv <- GEMM): a 3x3 conv done by F.unfold (im2col) + torch.matmul.

The matmul family lists every conv (a 1x1 conv is a GEMM), but the conv family lists no GEMM: for a conv op type,
im2col (aten::im2col, a copy) and a library GEMM (aten::mm/matmul) that does all 2*N*C*K*K*H*W FLOPs pass both the
static rule and the run-time record. This is exactly how cuDNN/oneDNN's implicit-GEMM algorithms compute the op.
"""

import torch
import torch.nn.functional as F

DEFINITION = "flux1_dev_vae_conv3x3_c512"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = 'families: the op is in its family now (red-team round 22, attack-ab)'


@torch.no_grad()
def run(x, weight, bias):
    n, c, h, w = x.shape
    cols = F.unfold(x.float(), kernel_size=3, padding=1)  # [n, c*9, h*w]
    out = torch.matmul(weight.float().reshape(weight.shape[0], -1), cols) + bias.float()[:, None]  # HACK
    return out.reshape(n, -1, h, w).to(x.dtype)

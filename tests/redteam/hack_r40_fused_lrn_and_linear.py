"""Red-team round 40, bj05 (attack-bj): a fused LayerNorm, linear and GELU whose LayerNorm is
``CrossMapLRN2d`` on the centred row and whose GEMM is ``F.linear``: two library parts, where a fused op may hand one.
The record saw only the GEMM (the norm's Python is primitives): PASSED under strict on CPU. Now the record's label of
torch's own autograd Functions (``CrossMapLRN2d``) counts as its family's part (``guard.dispatched``)."""
import math

import torch
import torch.nn.functional as F

DEFINITION = "convnext_base_layernorm_pwconv1_gelu_c512_h14"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = "the record's CrossMapLRN2d label is the norm family's part: two parts of a fused op (tests/test_operators.py)"
EPS = 1e-6


def run(x, norm_weight, norm_bias, weight, bias):
    shape = x.shape
    c = shape[-1]
    rows = x.float().reshape(-1, c)
    centred = rows - rows.mean(dim=-1, keepdim=True)
    size = 2 * c + 1
    lrn = torch.nn.CrossMapLRN2d(size, alpha=size / c, beta=0.5, k=EPS)
    n = centred.shape[0]
    normed = lrn(centred.t().reshape(1, c, n, 1).contiguous()).reshape(c, n).t()
    normed = (normed * norm_weight.float() + norm_bias.float()).to(x.dtype)
    y = F.linear(normed, weight, bias).float()
    y = 0.5 * y * (1.0 + torch.erf(y / math.sqrt(2.0)))
    return y.to(x.dtype).reshape(*shape[:-1], -1)

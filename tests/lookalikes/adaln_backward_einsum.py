"""Red-team round 23, ac09 (honest look-alike, a false verdict now fixed): adaLN-modulate backward in eager torch, its per-channel sums written as einsum.

grad_scale[b, d] = sum_t dy[b, t, d] * x_hat[b, t, d] is written `torch.einsum("btd,btd->bd", dy, x_hat)`, a
common idiom for a batched weighted sum. No library norm is called; the LayerNorm statistics are written out as
in the reference. torch's einsum dispatches aten::einsum and a bmm with a contraction over t, which the operator
allow-list first refused for a layernorm-family op type; a GEMM is a part of it now (``Family.parts``).
"""

import torch

DEFINITION = "dit_xl_2_adaln_modulate_backward_h1152"
EPS = 1e-6


@torch.no_grad()
def run(grad_output, x, scale):
    xf, dy = x.float(), grad_output.float()
    mean = xf.mean(dim=-1, keepdim=True)
    rstd = torch.rsqrt((xf - mean).pow(2).mean(dim=-1, keepdim=True) + EPS)
    x_hat = (xf - mean) * rstd
    grad_shift = dy.sum(dim=1)
    grad_scale = torch.einsum("btd,btd->bd", dy, x_hat)
    dx_hat = dy * (1 + scale.float()[:, None, :])
    grad_x = rstd * (dx_hat - dx_hat.mean(-1, keepdim=True) - x_hat * (dx_hat * x_hat).mean(-1, keepdim=True))
    return grad_x.to(x.dtype), grad_shift.to(scale.dtype), grad_scale.to(scale.dtype)

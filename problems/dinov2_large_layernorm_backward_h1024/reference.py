"""Backward of LayerNorm (eps 1e-6, affine), written out in fp32 (it equals torch.autograd on the forward)."""

import torch

EPS = 1e-6


@torch.no_grad()
def run(grad_output, x, weight):
    xf, dy = x.float(), grad_output.float()
    mean = xf.mean(dim=-1, keepdim=True)
    rstd = torch.rsqrt(xf.var(dim=-1, unbiased=False, keepdim=True) + EPS)
    x_hat = (xf - mean) * rstd
    grad_weight = (dy * x_hat).sum(dim=(0, 1))
    grad_bias = dy.sum(dim=(0, 1))
    dx_hat = dy * weight.float()
    mean_dx_hat, mean_dx_hat_x_hat = dx_hat.mean(dim=-1, keepdim=True), (dx_hat * x_hat).mean(dim=-1, keepdim=True)
    grad_input = rstd * (dx_hat - mean_dx_hat - x_hat * mean_dx_hat_x_hat)
    return grad_input.to(x.dtype), grad_weight.to(weight.dtype), grad_bias.to(weight.dtype)

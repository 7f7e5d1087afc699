"""Backward of GroupNorm (32 groups, eps 1e-5, affine), written out in fp32 per group."""

import torch

NUM_GROUPS, EPS = 32, 1e-5


@torch.no_grad()
def run(grad_output, x, weight):
    n, c = x.shape[:2]
    xg = x.float().reshape(n, NUM_GROUPS, -1)
    mean = xg.mean(dim=-1, keepdim=True)
    rstd = torch.rsqrt(xg.var(dim=-1, unbiased=False, keepdim=True) + EPS)
    x_hat = ((xg - mean) * rstd).reshape(x.shape)
    dy = grad_output.float()
    grad_weight = (dy * x_hat).sum(dim=(0, 2, 3))
    grad_bias = dy.sum(dim=(0, 2, 3))
    dx_hat = (dy * weight.float()[None, :, None, None]).reshape(n, NUM_GROUPS, -1)
    x_hat = x_hat.reshape(n, NUM_GROUPS, -1)
    mean_dx_hat, mean_dx_hat_x_hat = dx_hat.mean(dim=-1, keepdim=True), (dx_hat * x_hat).mean(dim=-1, keepdim=True)
    grad_input = rstd * (dx_hat - mean_dx_hat - x_hat * mean_dx_hat_x_hat)
    return grad_input.reshape(x.shape).to(x.dtype), grad_weight.to(weight.dtype), grad_bias.to(weight.dtype)

"""Backward of the Pythia-1.4B LayerNorm y = x_hat * w + b, x_hat = (x - mean) * rstd, in fp32 (it equals autograd)."""

import torch

EPS = 1e-05


@torch.no_grad()
def run(grad_output, x, weight):
    xf, dy = x.float(), grad_output.float()
    mean = xf.mean(dim=-1, keepdim=True)
    rstd = torch.rsqrt(xf.var(dim=-1, unbiased=False, keepdim=True) + EPS)
    x_hat = (xf - mean) * rstd
    grad_weight = (dy * x_hat).sum(dim=0)
    grad_bias = dy.sum(dim=0)
    dx_hat = dy * weight.float()
    mean_dx_hat, mean_dx_hat_x_hat = dx_hat.mean(dim=-1, keepdim=True), (dx_hat * x_hat).mean(dim=-1, keepdim=True)
    grad_input = rstd * (dx_hat - mean_dx_hat - x_hat * mean_dx_hat_x_hat)
    return grad_input.to(x.dtype), grad_weight.to(weight.dtype), grad_bias.to(weight.dtype)

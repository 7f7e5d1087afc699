"""Backward of residual add + RMSNorm: the norm's input gradient plus the residual stream's, in fp32."""

import torch

EPS = 1e-6


@torch.no_grad()
def run(grad_output, grad_residual_out, residual_out, weight):
    x = residual_out.float()
    dy = grad_output.float()
    inv_rms = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + EPS)
    x_hat = x * inv_rms
    grad_weight = (dy * x_hat).sum(dim=0)
    dx_hat = dy * weight.float()
    grad_norm = inv_rms * (dx_hat - x_hat * (dx_hat * x_hat).mean(dim=-1, keepdim=True))
    grad_input = grad_norm + grad_residual_out.float()
    return grad_input.to(residual_out.dtype), grad_weight.to(weight.dtype)

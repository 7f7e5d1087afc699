"""Backward of the DeepSeek-V3 RMSNorm y = x * rsqrt(mean(x^2) + eps) * w, in fp32 (it equals autograd)."""

import torch

EPS = 1e-06


@torch.no_grad()
def run(grad_output, hidden_states, weight):
    x = hidden_states.float()
    dy = grad_output.float()
    inv_rms = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + EPS)
    x_hat = x * inv_rms
    grad_weight = (dy * x_hat).sum(dim=0)
    dx_hat = dy * weight.float()
    # d/dx of x * inv_rms: inv_rms * (dx_hat - x_hat * mean(dx_hat * x_hat))
    grad_input = inv_rms * (dx_hat - x_hat * (dx_hat * x_hat).mean(dim=-1, keepdim=True))
    return grad_input.to(hidden_states.dtype), grad_weight.to(weight.dtype)

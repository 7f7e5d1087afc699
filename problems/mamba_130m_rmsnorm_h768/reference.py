"""Mamba-130M RMSNorm (width 768): y = x / sqrt(mean(x^2) + eps) * weight, in fp32, rounded once to bf16."""

import torch

EPS = 1e-05


@torch.no_grad()
def run(hidden_states, weight):
    x = hidden_states.float()
    inv_rms = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + EPS)
    return (x * inv_rms * weight.float()).to(hidden_states.dtype)

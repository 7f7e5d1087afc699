"""Gemma-3-1B RMSNorm (width 1152): y = x / sqrt(mean(x^2) + eps) * (1 + weight), in fp32, rounded once to bf16."""

import torch

EPS = 1e-06


@torch.no_grad()
def run(hidden_states, weight):
    x = hidden_states.float()
    inv_rms = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + EPS)
    return (x * inv_rms * (1 + weight.float())).to(hidden_states.dtype)

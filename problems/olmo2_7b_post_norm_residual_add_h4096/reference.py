"""OLMo-2 post-norm: output = residual + RMSNorm(sublayer output) * weight, in fp32, rounded once to bf16."""

import torch

EPS = 1e-6


@torch.no_grad()
def run(hidden_states, residual, weight):
    x = hidden_states.float()
    normed = x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + EPS) * weight.float()
    return (residual.float() + normed).to(hidden_states.dtype)

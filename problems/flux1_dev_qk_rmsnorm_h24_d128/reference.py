"""FLUX.1 QKNorm: RMSNorm over head_dim (eps 1e-6) times a learned scale, for q and k, in fp32."""

import torch

EPS = 1e-6


def _rmsnorm(x, scale):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(dim=-1, keepdim=True) + EPS) * scale.float()).to(x.dtype)


@torch.no_grad()
def run(q, k, q_scale, k_scale):
    return _rmsnorm(q, q_scale), _rmsnorm(k, k_scale)

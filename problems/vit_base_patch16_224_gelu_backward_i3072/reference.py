"""Backward of exact GELU, x * Phi(x): grad * (Phi(x) + x * phi(x)), in fp32."""

import math

import torch


@torch.no_grad()
def run(grad_output, x):
    xf = x.float()
    cdf = 0.5 * (1 + torch.erf(xf / math.sqrt(2)))
    pdf = torch.exp(-0.5 * xf * xf) / math.sqrt(2 * math.pi)
    return (grad_output.float() * (cdf + xf * pdf)).to(x.dtype)

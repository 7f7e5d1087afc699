"""Backward of y = gelu_tanh(gate) * up, gate_up = [gate | up], in fp32 (it equals torch.autograd on the forward)."""

import math

import torch

SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


@torch.no_grad()
def run(grad_output, gate_up):
    gate, up = gate_up.float().chunk(2, dim=-1)
    dy = grad_output.float()
    t = torch.tanh(SQRT_2_OVER_PI * (gate + 0.044715 * gate**3))
    gelu = 0.5 * gate * (1 + t)
    d_gelu = 0.5 * (1 + t) + 0.5 * gate * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * gate**2)
    return torch.cat([dy * up * d_gelu, dy * gelu], dim=-1).to(gate_up.dtype)

"""gpt-oss clamped SwiGLU over interleaved gate/up columns, in fp32, rounded to bf16."""

import torch

LIMIT, ALPHA = 7.0, 1.702


@torch.no_grad()
def run(gate_up):
    x = gate_up.float()
    gate, up = x[..., 0::2].clamp(max=LIMIT), x[..., 1::2].clamp(-LIMIT, LIMIT)
    return ((up + 1) * gate * torch.sigmoid(ALPHA * gate)).to(gate_up.dtype)

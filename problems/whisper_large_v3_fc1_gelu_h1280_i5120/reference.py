"""Whisper large-v3 fc1 + GELU: a bf16 linear layer with bias (as the model runs it), then exact GELU in fp32."""

import torch
import torch.nn.functional as F


@torch.no_grad()
def run(x, weight, bias):
    hidden = F.linear(x, weight, bias)
    return F.gelu(hidden.float()).to(x.dtype)

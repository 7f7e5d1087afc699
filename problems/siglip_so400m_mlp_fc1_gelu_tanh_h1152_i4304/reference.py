"""SigLIP so400m fc1 + GELU(tanh): a bf16 linear layer with bias (as the model runs it), then GELU in fp32."""

import torch
import torch.nn.functional as F


@torch.no_grad()
def run(x, weight, bias):
    return F.gelu(F.linear(x, weight, bias).float(), approximate="tanh").to(x.dtype)

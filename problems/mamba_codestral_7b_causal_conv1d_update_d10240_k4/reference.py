"""Causal conv1d decode step: window = [state, x], silu(window . weight + bias), state shifted to take x."""

import torch
import torch.nn.functional as F


@torch.no_grad()
def run(x, conv_state, weight, bias):
    window = torch.cat([conv_state, x[..., None]], dim=-1)  # [batch, dim, width]
    out = F.silu((window.float() * weight.float()).sum(dim=-1) + bias.float())
    return out.to(x.dtype), window[..., 1:].clone()

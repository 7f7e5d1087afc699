"""Backward of silu(causal depthwise conv1d(x) + bias), width 4, written out in fp32 with shifted slices."""

import torch
import torch.nn.functional as F


@torch.no_grad()
def run(grad_output, x, weight, bias):
    width, length = weight.shape[1], x.shape[-1]
    w = weight.float()
    x_padded = F.pad(x.float(), (width - 1, 0))  # x_padded[t + k] pairs with weight[k] for output t
    u = sum(w[:, k, None] * x_padded[..., k : k + length] for k in range(width)) + bias.float()[:, None]
    s = torch.sigmoid(u)
    du = grad_output.float() * s * (1 + u * (1 - s))
    grad_weight = torch.stack([(du * x_padded[..., k : k + length]).sum(dim=(0, 2)) for k in range(width)], dim=1)
    du_padded = F.pad(du, (0, width - 1))  # input t reaches outputs t + width - 1 - k through weight[k]
    grad_x = sum(w[:, k, None] * du_padded[..., width - 1 - k : width - 1 - k + length] for k in range(width))
    return grad_x.to(x.dtype), grad_weight.to(weight.dtype), du.sum(dim=(0, 2)).to(bias.dtype)

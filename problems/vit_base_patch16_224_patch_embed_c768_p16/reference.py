"""ViT-B/16 patch embedding: conv 16x16 stride 16 (3 -> 768, bias) flattened to tokens, fp32, rounded once."""

import torch
import torch.nn.functional as F

PATCH = 16


@torch.no_grad()
def run(pixel_values, weight, bias):
    out = F.conv2d(pixel_values.float(), weight.float(), bias.float(), stride=PATCH)
    return out.flatten(2).transpose(1, 2).to(pixel_values.dtype)

"""Qwen2.5-VL patch embedding: a Conv3d, kernel = stride = (2, 14, 14), over each flattened patch, no bias."""

import torch
import torch.nn.functional as F

IN_CHANNELS, TEMPORAL_PATCH, PATCH, EMBED = 3, 2, 14, 1280


@torch.no_grad()
def run(pixel_values, weight):
    patches = pixel_values.float().view(-1, IN_CHANNELS, TEMPORAL_PATCH, PATCH, PATCH)
    out = F.conv3d(patches, weight.float(), stride=(TEMPORAL_PATCH, PATCH, PATCH))  # [num_patches, 1280, 1, 1, 1]
    return out.view(-1, EMBED).to(pixel_values.dtype)

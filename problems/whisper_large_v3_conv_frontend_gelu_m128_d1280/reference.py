"""Whisper encoder front end: gelu(conv1(mel)), gelu(conv2(.)) with stride 2, transposed to tokens; fp32."""

import torch
import torch.nn.functional as F


@torch.no_grad()
def run(input_features, conv1_weight, conv1_bias, conv2_weight, conv2_bias):
    h = F.gelu(F.conv1d(input_features.float(), conv1_weight.float(), conv1_bias.float(), padding=1))
    h = F.gelu(F.conv1d(h, conv2_weight.float(), conv2_bias.float(), stride=2, padding=1))
    return h.transpose(1, 2).to(input_features.dtype)

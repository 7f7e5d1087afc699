"""wav2vec 2.0 feature encoder layer 0: conv1d (1 -> 512, k 10, s 5), per-channel GroupNorm, GELU; fp32."""

import torch
import torch.nn.functional as F

STRIDE, EPS = 5, 1e-5


@torch.no_grad()
def run(input_values, conv_weight, norm_weight, norm_bias):
    h = F.conv1d(input_values.float()[:, None, :], conv_weight.float(), stride=STRIDE)
    h = F.group_norm(h, h.shape[1], norm_weight.float(), norm_bias.float(), eps=EPS)
    return F.gelu(h).to(input_values.dtype)

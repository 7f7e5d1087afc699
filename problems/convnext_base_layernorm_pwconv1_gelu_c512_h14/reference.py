"""ConvNeXt block tail: channels-last LayerNorm (eps 1e-6) in fp32, bf16 pwconv1 (512 -> 2048), exact GELU."""

import torch
import torch.nn.functional as F

EPS = 1e-6


@torch.no_grad()
def run(x, norm_weight, norm_bias, weight, bias):
    normed = F.layer_norm(x.float(), (x.shape[-1],), norm_weight.float(), norm_bias.float(), eps=EPS).to(x.dtype)
    return F.gelu(F.linear(normed, weight, bias).float()).to(x.dtype)

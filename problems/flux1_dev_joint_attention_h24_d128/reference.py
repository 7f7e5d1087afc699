"""FLUX.1 joint text-image attention: non-causal softmax(q k^T / sqrt(128)) v over all tokens, in fp32."""

import torch
import torch.nn.functional as F


@torch.no_grad()
def run(q, k, v):
    return F.scaled_dot_product_attention(q.float(), k.float(), v.float()).to(q.dtype)

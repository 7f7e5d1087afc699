"""SD3.5 Large joint attention: non-causal softmax(q k^T / sqrt(64)) v over text + image tokens, in fp32."""

import torch
import torch.nn.functional as F


@torch.no_grad()
def run(q, k, v):
    return F.scaled_dot_product_attention(q.float(), k.float(), v.float()).to(q.dtype)

"""Backward of softmax(q k^T / sqrt(d)) v, written out in fp32 (P recomputed), as FlashAttention's backward."""

import torch


@torch.no_grad()
def run(grad_output, q, k, v):
    scale = q.shape[-1] ** -0.5
    qf, kf, vf, do = q.float(), k.float(), v.float(), grad_output.float()
    p = torch.softmax((qf @ kf.transpose(-1, -2)) * scale, dim=-1)
    grad_v = p.transpose(-1, -2) @ do
    dp = do @ vf.transpose(-1, -2)
    ds = p * (dp - (dp * p).sum(dim=-1, keepdim=True))
    grad_q = (ds @ kf) * scale
    grad_k = (ds.transpose(-1, -2) @ qf) * scale
    return grad_q.to(q.dtype), grad_k.to(k.dtype), grad_v.to(v.dtype)

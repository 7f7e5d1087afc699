"""Causal GQA prefill attention: each query head reads KV head h // group, softmax in fp32, rounded once to bf16.

Queries are taken 1024 at a time against the keys up to the block's end: the same numbers as one big masked
matmul, in memory that fits 16384 tokens (a full 64-head score matrix is 69 GB in fp32), and the FLOPs counted
from it follow the causal triangle (within one diagonal block of it) instead of the full square.
"""

import torch

BLOCK = 1024


@torch.no_grad()
def run(q, k, v, sm_scale):
    seq_len, num_qo_heads = q.shape[1], q.shape[2]
    group = num_qo_heads // k.shape[2]
    qf = q.float().transpose(1, 2)  # [batch, heads, seq, dim]
    kf = k.float().transpose(1, 2).repeat_interleave(group, dim=1)
    vf = v.float().transpose(1, 2).repeat_interleave(group, dim=1)
    out = torch.empty_like(qf)
    for start in range(0, seq_len, BLOCK):
        end = min(start + BLOCK, seq_len)
        scores = qf[:, :, start:end] @ kf[:, :, :end].transpose(-1, -2) * sm_scale
        rows = torch.arange(start, end, device=q.device)[:, None]
        future = torch.arange(end, device=q.device)[None, :] > rows
        probs = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
        out[:, :, start:end] = probs @ vf[:, :, :end]
    return out.transpose(1, 2).to(q.dtype)

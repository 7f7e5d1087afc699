"""Causal GQA prefill attention: each query head reads KV head h // group, softmax in fp32, rounded once to bf16."""

import torch


@torch.no_grad()
def run(q, k, v, sm_scale):
    seq_len, num_qo_heads = q.shape[1], q.shape[2]
    group = num_qo_heads // k.shape[2]
    qf = q.float().transpose(1, 2)  # [batch, heads, seq, dim]
    kf = k.float().transpose(1, 2).repeat_interleave(group, dim=1)
    vf = v.float().transpose(1, 2).repeat_interleave(group, dim=1)
    causal = torch.ones(seq_len, seq_len, dtype=torch.bool, device=q.device).tril()
    probs = torch.softmax((qf @ kf.transpose(-1, -2) * sm_scale).masked_fill(~causal, float("-inf")), dim=-1)
    return (probs @ vf).transpose(1, 2).to(q.dtype)

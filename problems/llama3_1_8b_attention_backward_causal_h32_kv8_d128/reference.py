"""Backward of causal GQA softmax attention, written out in fp32 (it equals torch.autograd on the forward)."""

import torch


@torch.no_grad()
def run(grad_output, q, k, v, sm_scale):
    batch, seq_len, num_qo_heads, head_dim = q.shape
    group = num_qo_heads // k.shape[2]
    qf, do = q.float().transpose(1, 2), grad_output.float().transpose(1, 2)  # [batch, heads, seq, dim]
    kf = k.float().transpose(1, 2).repeat_interleave(group, dim=1)  # query head h reads kv head h // group
    vf = v.float().transpose(1, 2).repeat_interleave(group, dim=1)
    causal = torch.ones(seq_len, seq_len, dtype=torch.bool, device=q.device).tril()
    probs = torch.softmax((qf @ kf.transpose(-1, -2) * sm_scale).masked_fill(~causal, float("-inf")), dim=-1)
    grad_v = probs.transpose(-1, -2) @ do
    grad_probs = do @ vf.transpose(-1, -2)
    grad_scores = probs * (grad_probs - (probs * grad_probs).sum(dim=-1, keepdim=True)) * sm_scale
    grad_q = grad_scores @ kf
    grad_k = grad_scores.transpose(-1, -2) @ qf
    # A KV head's gradient is the sum over the query heads of its group.
    kv_shape = (batch, num_qo_heads // group, group, seq_len, head_dim)
    grad_k, grad_v = grad_k.reshape(kv_shape).sum(dim=2), grad_v.reshape(kv_shape).sum(dim=2)
    return (grad_q.transpose(1, 2).to(q.dtype), grad_k.transpose(1, 2).to(k.dtype), grad_v.transpose(1, 2).to(v.dtype))

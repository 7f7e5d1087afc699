"""Gemma-2 local-layer prefill: causal attention within a 4096-token sliding window, scores soft-capped at 50.

Each query head reads KV head h // 2; scores = 50 * tanh(q.k * sm_scale / 50), query i sees keys i - 4095 .. i
(Hugging Face's Gemma-2 mask); softmax in fp32, rounded once to bf16. Queries are taken 128 at a time against
only the keys their window reaches, so the counted FLOPs follow the band, not the square.
"""

import torch

WINDOW, SOFTCAP = 4096, 50.0
BLOCK = 128


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
        first = max(0, start - WINDOW + 1)  # the earliest key a query of this block sees
        scores = qf[:, :, start:end] @ kf[:, :, first:end].transpose(-1, -2) * sm_scale
        scores = SOFTCAP * torch.tanh(scores / SOFTCAP)
        rows = torch.arange(start, end, device=q.device)[:, None]
        cols = torch.arange(first, end, device=q.device)[None, :]
        hidden = (cols > rows) | (cols <= rows - WINDOW)
        probs = torch.softmax(scores.masked_fill(hidden, float("-inf")), dim=-1)
        out[:, :, start:end] = probs @ vf[:, :, first:end]
    return out.transpose(1, 2).to(q.dtype)

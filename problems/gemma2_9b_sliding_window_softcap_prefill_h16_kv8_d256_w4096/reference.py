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




def make_inputs(axes_and_scalars, device):
    """q at 8 x randn on a random half of the tokens, so their scores (about N(0, 64) at sm_scale 1/16) reach the cap:
    the largest, which the softmax weighs most, lose 3 to 7 % of their value to it, and a kernel that leaves the
    softcap out is wrong there (red-team round 68, ep02: with randn alone the scores are about N(0, 1) and the cap
    moves none beyond bf16's tolerance). The other half stays randn, whose softmax is spread over the window: with
    every token at 8 x, the softmax was nearly one-hot and a kernel that skipped the PV products of key blocks far
    below a row's maximum passed (round 69, es01). k and v are randn; sm_scale is the model's, query_pre_attn_scalar
    256 ** -0.5."""
    a = axes_and_scalars
    q_shape = (a["batch_size"], a["seq_len"], a["num_qo_heads"], a["head_dim"])
    kv_shape = (a["batch_size"], a["seq_len"], a["num_kv_heads"], a["head_dim"])
    capped = torch.rand(a["batch_size"], a["seq_len"], 1, 1, device=device) < 0.5
    q = torch.randn(q_shape, device=device)
    return {
        "q": torch.where(capped, 8 * q, q).to(torch.bfloat16),
        "k": torch.randn(kv_shape, device=device).to(torch.bfloat16),
        "v": torch.randn(kv_shape, device=device).to(torch.bfloat16),
        "sm_scale": 0.0625,
    }

"""Causal ragged (varlen) prefill with LSE: sequences packed back to back, each chunk continuing its cached prefix.

Sequence b's queries are q[qo_indptr[b]:qo_indptr[b+1]], its keys and values k/v[kv_indptr[b]:kv_indptr[b+1]];
the last q_len keys are the chunk's own tokens, those before them the prefix already cached, so query i of the
chunk sees keys 0 .. prefix + i (FlashInfer's causal mask, aligned to the bottom right). Softmax in fp32, output
rounded once to bf16; lse is the base-2 log-sum-exp of the scaled scores, as FlashInfer returns it. Queries are
taken 128 at a time against the keys they can see, so the counted FLOPs follow the causal triangle.
"""

import math

import torch

NUM_QO_HEADS, NUM_KV_HEADS, HEAD_DIM = 32, 8, 128
BLOCK = 128


@torch.no_grad()
def run(q, k, v, qo_indptr, kv_indptr, sm_scale):
    total_q, num_qo_heads, _ = q.shape
    group = num_qo_heads // k.shape[1]
    output = torch.empty(total_q, num_qo_heads, v.shape[-1], dtype=q.dtype, device=q.device)
    lse = torch.empty(total_q, num_qo_heads, dtype=torch.float32, device=q.device)
    qo, kv = qo_indptr.tolist(), kv_indptr.tolist()
    for b in range(len(qo) - 1):
        qf = q[qo[b] : qo[b + 1]].float().transpose(0, 1)  # [heads, q_len, dim]
        kf = k[kv[b] : kv[b + 1]].float().transpose(0, 1).repeat_interleave(group, dim=0)
        vf = v[kv[b] : kv[b + 1]].float().transpose(0, 1).repeat_interleave(group, dim=0)
        q_len, prefix = qf.shape[1], kf.shape[1] - qf.shape[1]
        for start in range(0, q_len, BLOCK):
            end = min(start + BLOCK, q_len)
            visible = prefix + end  # the last query of the block sees this many keys
            scores = qf[:, start:end] @ kf[:, :visible].transpose(-1, -2) * sm_scale
            rows = prefix + torch.arange(start, end, device=q.device)[:, None]
            future = torch.arange(visible, device=q.device)[None, :] > rows
            scores = scores.masked_fill(future, float("-inf"))
            block_lse = torch.logsumexp(scores, dim=-1)  # natural log, [heads, rows]
            out = torch.exp(scores - block_lse[..., None]) @ vf[:, :visible]
            output[qo[b] + start : qo[b] + end] = out.transpose(0, 1).to(q.dtype)
            lse[qo[b] + start : qo[b] + end] = (block_lse / math.log(2.0)).transpose(0, 1)
    return output, lse


def split(total, parts, minimum, device):
    """`parts` random lengths of at least `minimum` that sum to `total`, as an indptr [parts + 1] of int32."""
    spare = total - parts * minimum
    weights = torch.rand(parts)
    lengths = (weights / weights.sum() * spare).floor().long() + minimum
    lengths[-1] += total - int(lengths.sum())
    return torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)]).to(torch.int32).to(device)


def make_inputs(axes_and_scalars, device):
    batch_size, total_q, total_kv = (axes_and_scalars[a] for a in ("batch_size", "total_q", "total_kv"))
    qo_indptr = split(total_q, batch_size, 1, device)
    prefixes = split(total_kv - total_q, batch_size, 0, device)  # cached tokens before each chunk
    kv_indptr = qo_indptr + prefixes
    return {
        "q": torch.randn(total_q, NUM_QO_HEADS, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "k": torch.randn(total_kv, NUM_KV_HEADS, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "v": torch.randn(total_kv, NUM_KV_HEADS, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "qo_indptr": qo_indptr,
        "kv_indptr": kv_indptr,
        "sm_scale": HEAD_DIM**-0.5,
    }

"""DeepSeek-V3 MLA prefill, ragged, with LSE: per-head keys of 128 + 64 (rope) dims, values of 128, causal per chunk.

Sequence b's queries are q[qo_indptr[b]:qo_indptr[b+1]], its keys and values k/v[kv_indptr[b]:kv_indptr[b+1]];
the last q_len keys are the chunk's own tokens, those before them the prefix already cached, so query i of the
chunk sees keys 0 .. prefix + i (FlashInfer's causal mask, aligned to the bottom right). Softmax in fp32, output
rounded once to bf16; lse is the base-2 log-sum-exp of the scaled scores, as FlashInfer returns it. Each query
row is taken against exactly the keys it sees, so the counted FLOPs are the causal triangle (the sol formula counts
them from the axes as if every chunk had the mean length total_q / batch_size: make_inputs draws lengths within 1/8
of it, after equal prefixes, and equal chunks are the least causal work the totals allow, so the formula is never
above what the reference does).
"""

import math

import torch

NUM_HEADS, QK_HEAD_DIM, V_HEAD_DIM = 16, 128 + 64, 128  # 128 heads over 8 tensor-parallel ranks
MSCALE = 0.1 * 1.0 * math.log(40.0) + 1.0  # YaRN: 0.1 * mscale_all_dim * ln(factor) + 1
SM_SCALE = QK_HEAD_DIM**-0.5 * MSCALE**2


@torch.no_grad()
def run(q, k, v, qo_indptr, kv_indptr, sm_scale):
    total_q, num_qo_heads, _ = q.shape
    group = num_qo_heads // k.shape[1]
    output = torch.empty(total_q, num_qo_heads, v.shape[-1], dtype=q.dtype, device=q.device)
    lse = torch.empty(total_q, num_qo_heads, dtype=torch.float32, device=q.device)
    qo, kv = qo_indptr.tolist(), kv_indptr.tolist()
    for b in range(len(qo) - 1):
        qf = q[qo[b] : qo[b + 1]].float().transpose(0, 1)  # [heads, q_len, dim]
        kt = k[kv[b] : kv[b + 1]].float().permute(1, 2, 0).repeat_interleave(group, dim=0)  # [heads, dim, kv_len]
        vf = v[kv[b] : kv[b + 1]].float().transpose(0, 1).repeat_interleave(group, dim=0)
        prefix = kt.shape[2] - qf.shape[1]
        for i in range(qf.shape[1]):  # one query row at a time, against exactly the keys it sees
            visible = prefix + i + 1
            scores = qf[:, i : i + 1] @ kt[:, :, :visible] * sm_scale  # [heads, 1, visible]
            row_lse = torch.logsumexp(scores, dim=-1)  # natural log, [heads, 1]
            out = torch.exp(scores - row_lse[..., None]) @ vf[:, :visible]
            output[qo[b] + i] = out[:, 0].to(q.dtype)
            lse[qo[b] + i] = row_lse[:, 0] / math.log(2.0)
    return output, lse


def _indptrs(batch_size, total_q, total_kv, device):
    """Chunks of unequal lengths, within 1/8 of total_q / batch_size each way in pairs (so they sum to total_q), in a
    random order, each after an equal prefix of (total_kv - total_q) / batch_size cached tokens. A kernel must read
    the lengths from the indptrs: with equal lengths, one taking the batch from the indptr's shape and running dense
    batched attention passed (red-team round 69, et02). Equal prefixes keep the prefix term of the FLOPs exact, and
    equal chunk lengths give the least causal triangle the totals allow, so the formula is never above the work."""
    q_len, prefix = total_q // batch_size, (total_kv - total_q) // batch_size
    spread, pairs = q_len // 8, batch_size // 2
    shifts = torch.randint(-spread, spread + 1, (pairs,))
    q_lens = torch.full((batch_size,), q_len, dtype=torch.int64)
    q_lens[: 2 * pairs] += torch.stack([shifts, -shifts], dim=1).reshape(-1)
    q_lens = q_lens[torch.randperm(batch_size)]
    zero = torch.zeros(1, dtype=torch.int64)
    qo_indptr = torch.cat([zero, q_lens.cumsum(0)])
    kv_indptr = torch.cat([zero, (q_lens + prefix).cumsum(0)])
    return qo_indptr.to(torch.int32).to(device), kv_indptr.to(torch.int32).to(device)


def make_inputs(axes_and_scalars, device):
    batch_size, total_q, total_kv = (axes_and_scalars[a] for a in ("batch_size", "total_q", "total_kv"))
    qo_indptr, kv_indptr = _indptrs(batch_size, total_q, total_kv, device)
    # q at 1 / mscale^2: scores of unit spread, as the GQA prefills' (unit q gave 1.87; red-team round 71, ey)
    return {
        "q": (torch.randn(total_q, NUM_HEADS, QK_HEAD_DIM, device=device) / MSCALE**2).to(torch.bfloat16),
        "k": torch.randn(total_kv, NUM_HEADS, QK_HEAD_DIM, dtype=torch.bfloat16, device=device),
        "v": torch.randn(total_kv, NUM_HEADS, V_HEAD_DIM, dtype=torch.bfloat16, device=device),
        "qo_indptr": qo_indptr,
        "kv_indptr": kv_indptr,
        "sm_scale": SM_SCALE,
    }

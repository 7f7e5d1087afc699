"""DeepSeek-V3 MLA prefill, ragged, with LSE: per-head keys of 128 + 64 (rope) dims, values of 128, causal per chunk.

Sequence b's queries are q[qo_indptr[b]:qo_indptr[b+1]], its keys and values k/v[kv_indptr[b]:kv_indptr[b+1]];
the last q_len keys are the chunk's own tokens, those before them the prefix already cached, so query i of the
chunk sees keys 0 .. prefix + i (FlashInfer's causal mask, aligned to the bottom right). Softmax in fp32, output
rounded once to bf16; lse is the base-2 log-sum-exp of the scaled scores, as FlashInfer returns it. Each query
row is taken against exactly the keys it sees, so the counted FLOPs are the causal triangle (the sol formula states
them: every sequence of a workload has the same length and prefix, so they follow from the axes).
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


def make_inputs(axes_and_scalars, device):
    batch_size, total_q, total_kv = (axes_and_scalars[a] for a in ("batch_size", "total_q", "total_kv"))
    steps = torch.arange(batch_size + 1, dtype=torch.int32, device=device)
    qo_indptr = steps * (total_q // batch_size)
    kv_indptr = steps * (total_kv // batch_size)  # each chunk after its prefix of (total_kv - total_q) / batch_size
    return {
        "q": torch.randn(total_q, NUM_HEADS, QK_HEAD_DIM, dtype=torch.bfloat16, device=device),
        "k": torch.randn(total_kv, NUM_HEADS, QK_HEAD_DIM, dtype=torch.bfloat16, device=device),
        "v": torch.randn(total_kv, NUM_HEADS, V_HEAD_DIM, dtype=torch.bfloat16, device=device),
        "qo_indptr": qo_indptr,
        "kv_indptr": kv_indptr,
        "sm_scale": SM_SCALE,
    }

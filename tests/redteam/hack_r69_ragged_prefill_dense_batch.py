"""Red-team round 69, et02 (attack-et; strict): a "ragged" MLA prefill that never reads qo_indptr or kv_indptr. The
problem's inputs laid every workload out as equal chunks, for every seed, so the kernel took the batch from the
indptr's shape and ran one dense batched attention. PASSED. The chunks now differ with the seed (within 1/8 of the
mean), so the dense batch is wrong."""

import math

import torch

DEFINITION = "deepseek_v3_mla_ragged_prefill_causal_tp8_h16_qk192_vo128"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "the problem's make_inputs: chunks of unequal lengths (_indptrs); tests/test_judge.py"
@torch.no_grad()
def run(q, k, v, qo_indptr, kv_indptr, sm_scale):
    batch = qo_indptr.shape[0] - 1  # HACK: the shape only, the values are never read
    total_q, heads, dqk = q.shape
    total_kv = k.shape[0]
    lq, lkv = total_q // batch, total_kv // batch
    qf = q.float().view(batch, lq, heads, dqk).transpose(1, 2)  # [B, H, Lq, D]
    kf = k.float().view(batch, lkv, heads, dqk).transpose(1, 2)
    vf = v.float().view(batch, lkv, heads, v.shape[-1]).transpose(1, 2)
    scores = (qf @ kf.transpose(-1, -2)) * sm_scale  # [B, H, Lq, Lkv]
    rows = torch.arange(lq, device=q.device)[:, None] + (lkv - lq)
    cols = torch.arange(lkv, device=q.device)[None, :]
    scores = scores.masked_fill(cols > rows, float("-inf"))
    top = scores.amax(dim=-1, keepdim=True)
    e = (scores - top).exp()
    total = e.sum(dim=-1, keepdim=True)
    out = (e / total) @ vf  # [B, H, Lq, Dv]
    lse = (top + total.log()).squeeze(-1) / math.log(2.0)  # [B, H, Lq]
    output = out.transpose(1, 2).reshape(total_q, heads, v.shape[-1]).to(q.dtype)
    return output, lse.transpose(1, 2).reshape(total_q, heads).contiguous()

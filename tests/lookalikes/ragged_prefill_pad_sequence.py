"""Red-team round 41 (attack-bo, FV-2), honest look-alike: a ragged causal prefill that batches its sequences with
``torch.nn.utils.rnn.pad_sequence``, its score and value GEMMs the library's (attention parts), its masked softmax by
hand."""
import math

import torch
from torch.nn.utils.rnn import pad_sequence

DEFINITION = "llama3_1_8b_gqa_ragged_prefill_causal_h32_kv8_d128"


@torch.no_grad()
def run(q, k, v, qo_indptr, kv_indptr, sm_scale):
    total_q, hq, d = q.shape
    group = hq // k.shape[1]
    qo, kv = qo_indptr.tolist(), kv_indptr.tolist()
    nb = len(qo) - 1
    qs = [q[qo[b]:qo[b + 1]].float() for b in range(nb)]
    ks = [k[kv[b]:kv[b + 1]].float() for b in range(nb)]
    vs = [v[kv[b]:kv[b + 1]].float() for b in range(nb)]
    qp = pad_sequence(qs, batch_first=True).transpose(1, 2)  # [B, H, Lq, D]
    kp = pad_sequence(ks, batch_first=True).transpose(1, 2).repeat_interleave(group, dim=1)  # [B, H, Lk, D]
    vp = pad_sequence(vs, batch_first=True).transpose(1, 2).repeat_interleave(group, dim=1)
    lq, lk = qp.shape[2], kp.shape[2]
    qlen = torch.tensor([qo[b + 1] - qo[b] for b in range(nb)])
    klen = torch.tensor([kv[b + 1] - kv[b] for b in range(nb)])
    i = torch.arange(lq)[None, :, None]
    j = torch.arange(lk)[None, None, :]
    visible = (j <= (klen - qlen)[:, None, None] + i) & (j < klen[:, None, None])  # [B, Lq, Lk]
    scores = (qp @ kp.transpose(-1, -2)) * sm_scale
    scores = scores.masked_fill(~visible[:, None], float("-inf"))
    m = scores.amax(dim=-1, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    p = torch.exp(scores - m)
    s = p.sum(dim=-1, keepdim=True)
    out = (p @ vp) / s.clamp_min(1e-30)
    lse = (m + torch.log(s)).squeeze(-1) / math.log(2.0)  # [B, H, Lq]
    output = torch.empty(total_q, hq, v.shape[-1], dtype=q.dtype)
    lse_out = torch.empty(total_q, hq, dtype=torch.float32)
    for b in range(nb):
        n = qo[b + 1] - qo[b]
        output[qo[b]:qo[b + 1]] = out[b, :, :n].transpose(0, 1).to(q.dtype)
        lse_out[qo[b]:qo[b + 1]] = lse[b, :, :n].transpose(0, 1)
    return output, lse_out

"""Red-team round 71, ey02 (attack-ey; strict): DSA sparse MLA decode whose P.V product reads only the 192 strongest
of each head's 2048 keys (the normaliser and lse over all of them): 9 % of the PV FLOPs. The problem's factory drew
unit queries, and with sm_scale's mscale^2 the scores spread by 3.25: a nearly one-hot softmax, and it PASSED. The
queries now give scores of unit spread, and the kept keys miss most of the output."""

import math

import torch

DEFINITION = "deepseek_v3_2_exp_dsa_sparse_mla_decode_h128_ckv512_kpe64_topk2048"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "the problem's make_inputs: queries at Q_STD, scores of unit spread; tests/test_judge.py"
CKV_DIM, KPE_DIM, KEEP = 512, 64, 192
@torch.no_grad()
def run(q_nope, q_pe, ckv_cache, kpe_cache, sparse_indices, sm_scale):
    batch_size, heads, _ = q_nope.shape
    ckv_all, kpe_all = ckv_cache.reshape(-1, CKV_DIM), kpe_cache.reshape(-1, KPE_DIM)
    output = torch.empty_like(q_nope)
    lse = torch.empty(batch_size, heads, dtype=torch.float32, device=q_nope.device)
    for b in range(batch_size):
        slots = sparse_indices[b][sparse_indices[b] >= 0].long()
        ckv, kpe = ckv_all[slots].float(), kpe_all[slots].float()
        scores = (q_nope[b].float() @ ckv.t() + q_pe[b].float() @ kpe.t()) * sm_scale
        m = scores.amax(dim=-1, keepdim=True)
        total = torch.exp(scores - m).sum(dim=-1, keepdim=True)
        lse[b] = ((m + torch.log(total)) / math.log(2.0)).squeeze(-1)
        keep = min(KEEP, scores.shape[-1])
        top = scores.topk(keep, dim=-1)
        p = torch.exp(top.values - m) / total  # [heads, keep]
        rows = ckv[top.indices]  # HACK: only the kept keys' values, [heads, keep, 512]
        output[b] = (p[:, None, :] @ rows).squeeze(1).to(q_nope.dtype)
    return output, lse

"""DeepSeek-V3.2 sparse MLA decode (absorbed): attention of each query over its 2048 indexed cache slots, fp32."""

import math

import torch

NUM_HEADS, CKV_DIM, KPE_DIM, PAGE_SIZE, TOPK = 128, 512, 64, 64, 2048
MSCALE = 0.1 * 1.0 * math.log(40.0) + 1.0  # YaRN: 0.1 * mscale_all_dim * ln(factor) + 1
SM_SCALE = (128 + 64) ** -0.5 * MSCALE**2  # (qk_nope_head_dim + qk_rope_head_dim)^-0.5 * mscale^2


@torch.no_grad()
def run(q_nope, q_pe, ckv_cache, kpe_cache, sparse_indices, sm_scale):
    batch_size = q_nope.shape[0]
    ckv_all, kpe_all = ckv_cache.reshape(-1, CKV_DIM), kpe_cache.reshape(-1, KPE_DIM)  # views: one row per slot
    output = torch.empty_like(q_nope)
    lse = torch.empty(batch_size, NUM_HEADS, dtype=torch.float32, device=q_nope.device)
    for b in range(batch_size):
        slots = sparse_indices[b][sparse_indices[b] >= 0].long()  # -1: no token (a sequence shorter than 2048)
        ckv, kpe = ckv_all[slots].float(), kpe_all[slots].float()
        scores = (q_nope[b].float() @ ckv.t() + q_pe[b].float() @ kpe.t()) * sm_scale  # [heads, selected]
        lse[b] = torch.logsumexp(scores, dim=-1) / math.log(2.0)  # base 2, as FlashMLA and FlashInfer return it
        output[b] = (torch.softmax(scores, dim=-1) @ ckv).to(q_nope.dtype)
    return output, lse


def sparse_layout(batch_size, kv_len, num_pages, device):
    """Each sequence's kv_len tokens on distinct scattered pages; min(kv_len, 2048) of them chosen, as slots."""
    pages_per_seq = (kv_len + PAGE_SIZE - 1) // PAGE_SIZE
    pool = torch.randperm(num_pages)[: batch_size * pages_per_seq].reshape(batch_size, pages_per_seq)
    indices = torch.full((batch_size, TOPK), -1, dtype=torch.int32)
    chosen = min(kv_len, TOPK)
    for b in range(batch_size):
        positions = torch.randperm(kv_len)[:chosen].sort().values  # the indexer's picks, in position order
        indices[b, :chosen] = (pool[b, positions // PAGE_SIZE] * PAGE_SIZE + positions % PAGE_SIZE).to(torch.int32)
    return indices.to(device)


#: The queries' spread, so that scores (sm_scale times q.k over CKV_DIM + KPE_DIM dims of unit keys) spread by about
#: one, as a trained model's do: unit queries gave 3.25, a nearly one-hot softmax over which a kernel that took P.V
#: over 9 % of the keys passed (red-team round 71, ey02, ey03)
Q_STD = 1 / (SM_SCALE * (CKV_DIM + KPE_DIM) ** 0.5)


def make_inputs(axes_and_scalars, device):
    batch_size, kv_len, num_pages = (axes_and_scalars[n] for n in ("batch_size", "kv_len", "num_pages"))
    return {
        "q_nope": (torch.randn(batch_size, NUM_HEADS, CKV_DIM, device=device) * Q_STD).to(torch.bfloat16),
        "q_pe": (torch.randn(batch_size, NUM_HEADS, KPE_DIM, device=device) * Q_STD).to(torch.bfloat16),
        "ckv_cache": torch.randn(num_pages, PAGE_SIZE, CKV_DIM, dtype=torch.bfloat16, device=device),
        "kpe_cache": torch.randn(num_pages, PAGE_SIZE, KPE_DIM, dtype=torch.bfloat16, device=device),
        "sparse_indices": sparse_layout(batch_size, kv_len, num_pages, device),
        "sm_scale": SM_SCALE,
    }

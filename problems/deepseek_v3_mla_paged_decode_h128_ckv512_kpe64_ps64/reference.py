"""DeepSeek-V3 MLA decode (absorbed): scores from latent and rotary parts, output in the 512-wide latent, fp32."""

import math

import torch

NUM_HEADS, CKV_DIM, KPE_DIM, PAGE_SIZE = 128, 512, 64, 64
MSCALE = 0.1 * 1.0 * math.log(40.0) + 1.0  # YaRN: 0.1 * mscale_all_dim * ln(factor) + 1
SM_SCALE = (128 + 64) ** -0.5 * MSCALE**2  # (qk_nope_head_dim + qk_rope_head_dim)^-0.5 * mscale^2


@torch.no_grad()
def run(q_nope, q_pe, ckv_cache, kpe_cache, block_table, seq_lens, sm_scale):
    batch_size = q_nope.shape[0]
    page_size = ckv_cache.shape[1]
    output = torch.empty_like(q_nope)
    for b in range(batch_size):
        seq_len = int(seq_lens[b])
        pages = block_table[b, : (seq_len + page_size - 1) // page_size].long()
        ckv = ckv_cache[pages].reshape(-1, ckv_cache.shape[-1])[:seq_len].float()
        kpe = kpe_cache[pages].reshape(-1, kpe_cache.shape[-1])[:seq_len].float()
        scores = (torch.einsum("hd,nd->hn", q_nope[b].float(), ckv) + torch.einsum("hd,nd->hn", q_pe[b].float(), kpe))
        probs = torch.softmax(scores * sm_scale, dim=-1)
        output[b] = torch.einsum("hn,nd->hd", probs, ckv).to(q_nope.dtype)
    return output


def _split_lengths(batch_size, total, capacity):
    """Random sequence lengths, each in [1, capacity], summing to exactly `total`."""
    weights = torch.rand(batch_size, dtype=torch.float64) + 0.25
    lengths = (weights / weights.sum() * total).floor().long().clamp(1, capacity)
    missing = total - int(lengths.sum())
    while missing:
        step = 1 if missing > 0 else -1
        room = (lengths < capacity) if step > 0 else (lengths > 1)
        chosen = room.nonzero().flatten()[: abs(missing)]
        lengths[chosen] += step
        missing -= step * len(chosen)
    return lengths


def paged_layout(axes, page_size, device):
    """seq_lens summing to num_kv_tokens and a block table of distinct pages scattered over the pool."""
    batch_size, max_pages, num_pages = axes["batch_size"], axes["max_pages_per_seq"], axes["num_pages"]
    seq_lens = _split_lengths(batch_size, axes["num_kv_tokens"], max_pages * page_size)
    pages_per_seq = (seq_lens + page_size - 1) // page_size
    pool = torch.randperm(num_pages)[: int(pages_per_seq.sum())]
    block_table = torch.zeros(batch_size, max_pages, dtype=torch.int32)
    start = 0
    for b, count in enumerate(pages_per_seq.tolist()):
        block_table[b, :count] = pool[start : start + count].to(torch.int32)
        start += count
    return block_table.to(device), seq_lens.to(torch.int32).to(device)


#: The queries' spread, so that scores (sm_scale times q.k over CKV_DIM + KPE_DIM dims of unit keys) spread by about
#: one, as a trained model's do: unit queries gave 3.25, a nearly one-hot softmax over which a kernel that took P.V
#: over 9 % of the keys passed (red-team round 71, ey02, ey03)
Q_STD = 1 / (SM_SCALE * (CKV_DIM + KPE_DIM) ** 0.5)


def make_inputs(axes_and_scalars, device):
    block_table, seq_lens = paged_layout(axes_and_scalars, PAGE_SIZE, device)
    num_pages, batch_size = axes_and_scalars["num_pages"], len(seq_lens)
    return {
        "q_nope": (torch.randn(batch_size, NUM_HEADS, CKV_DIM, device=device) * Q_STD).to(torch.bfloat16),
        "q_pe": (torch.randn(batch_size, NUM_HEADS, KPE_DIM, device=device) * Q_STD).to(torch.bfloat16),
        "ckv_cache": torch.randn(num_pages, PAGE_SIZE, CKV_DIM, dtype=torch.bfloat16, device=device),
        "kpe_cache": torch.randn(num_pages, PAGE_SIZE, KPE_DIM, dtype=torch.bfloat16, device=device),
        "block_table": block_table,
        "seq_lens": seq_lens,
        "sm_scale": SM_SCALE,
    }

"""Qwen2.5-7B GQA decode attention over a paged KV cache (pages of 1 token), one sequence at a time, in fp32."""

import torch

NUM_QO_HEADS, NUM_KV_HEADS, HEAD_DIM, PAGE_SIZE = 28, 4, 128, 1


@torch.no_grad()
def run(q, k_cache, v_cache, block_table, seq_lens, sm_scale):
    batch_size, num_qo_heads, head_dim = q.shape
    _, page_size, num_kv_heads, _ = k_cache.shape
    group_size = num_qo_heads // num_kv_heads
    output = torch.empty_like(q)
    for b in range(batch_size):
        seq_len = int(seq_lens[b])
        pages = block_table[b, : (seq_len + page_size - 1) // page_size].long()
        k = k_cache[pages].reshape(-1, num_kv_heads, head_dim)[:seq_len].float()  # [seq_len, kv_heads, dim]
        v = v_cache[pages].reshape(-1, num_kv_heads, head_dim)[:seq_len].float()
        k = k.repeat_interleave(group_size, dim=1)  # query head h reads kv head h // group_size
        v = v.repeat_interleave(group_size, dim=1)
        scores = torch.einsum("hd,nhd->hn", q[b].float(), k) * sm_scale
        probs = torch.softmax(scores, dim=-1)
        output[b] = torch.einsum("hn,nhd->hd", probs, v).to(q.dtype)
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


def make_inputs(axes_and_scalars, device):
    batch_size = axes_and_scalars["batch_size"]
    num_kv_tokens = axes_and_scalars["num_kv_tokens"]
    max_pages = axes_and_scalars["max_pages_per_seq"]
    num_pages = axes_and_scalars["num_pages"]
    seq_lens = _split_lengths(batch_size, num_kv_tokens, max_pages * PAGE_SIZE)
    pages_per_seq = (seq_lens + PAGE_SIZE - 1) // PAGE_SIZE
    # Every sequence gets its own pages, scattered over the pool; unused table slots point at page 0.
    pool = torch.randperm(num_pages)[: int(pages_per_seq.sum())]
    block_table = torch.zeros(batch_size, max_pages, dtype=torch.int32)
    start = 0
    for b, count in enumerate(pages_per_seq.tolist()):
        block_table[b, :count] = pool[start : start + count].to(torch.int32)
        start += count
    cache_shape = (num_pages, PAGE_SIZE, NUM_KV_HEADS, HEAD_DIM)
    return {
        "q": torch.randn(batch_size, NUM_QO_HEADS, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "k_cache": torch.randn(cache_shape, dtype=torch.bfloat16, device=device),
        "v_cache": torch.randn(cache_shape, dtype=torch.bfloat16, device=device),
        "block_table": block_table.to(device),
        "seq_lens": seq_lens.to(torch.int32).to(device),
        "sm_scale": 1.0 / HEAD_DIM**0.5,
    }

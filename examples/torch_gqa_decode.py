"""Llama-3.1-8B paged GQA decode in plain PyTorch, batched: gather every sequence's pages, mask, one softmax."""

from __future__ import annotations

import torch

DEFINITION = "llama3_1_8b_gqa_paged_decode_h32_kv8_d128_ps16"


@torch.no_grad()
def run(
    q: torch.Tensor,
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
    block_table: torch.Tensor,
    seq_lens: torch.Tensor,
    sm_scale: float,
) -> torch.Tensor:
    """Attention of one query token per sequence over its paged keys and values; returns [batch, heads, dim]."""
    batch_size, num_qo_heads, head_dim = q.shape
    _, page_size, num_kv_heads, _ = k_cache.shape
    group_size = num_qo_heads // num_kv_heads
    # Only the table columns some sequence uses: the longest sequence's page count.
    max_pages = int((seq_lens.max() + page_size - 1) // page_size)
    pages = block_table[:, :max_pages].long()  # [batch, max_pages]
    k = k_cache[pages].reshape(batch_size, max_pages * page_size, num_kv_heads, head_dim)
    v = v_cache[pages].reshape(batch_size, max_pages * page_size, num_kv_heads, head_dim)
    # Query head h of group g reads KV head g: view q as [batch, kv_heads, group, dim].
    q_grouped = q.float().reshape(batch_size, num_kv_heads, group_size, head_dim)
    scores = torch.einsum("bkgd,bnkd->bkgn", q_grouped, k.float()) * sm_scale
    positions = torch.arange(max_pages * page_size, device=q.device)
    scores.masked_fill_(positions[None, None, None, :] >= seq_lens[:, None, None, None], float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    out = torch.einsum("bkgn,bnkd->bkgd", probs, v.float())
    return out.reshape(batch_size, num_qo_heads, head_dim).to(q.dtype)

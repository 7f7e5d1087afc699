"""Paged KV-cache append (vLLM's reshape_and_cache_flash, FlashInfer's append_paged_kv_cache): each new token's key and value
written into slot slot_mapping[t] of a cache of pages of 16 token(s)."""

import torch

NUM_KV_HEADS, HEAD_DIM, PAGE_SIZE = 8, 128, 16


@torch.no_grad()
def run(key, value, k_cache, v_cache, slot_mapping):
    k_cache.view(-1, NUM_KV_HEADS, HEAD_DIM)[slot_mapping] = key
    v_cache.view(-1, NUM_KV_HEADS, HEAD_DIM)[slot_mapping] = value


def _split_lengths(count, total):
    """Random lengths, each at least 1, summing to exactly `total` (count <= total)."""
    weights = torch.rand(count, dtype=torch.float64) + 0.25
    lengths = (weights / weights.sum() * total).floor().long().clamp(min=1)
    missing = total - int(lengths.sum())
    while missing:
        step = 1 if missing > 0 else -1
        room = torch.ones_like(lengths, dtype=torch.bool) if step > 0 else lengths > 1
        chosen = room.nonzero().flatten()[: abs(missing)]
        lengths[chosen] += step
        missing -= step * len(chosen)
    return lengths


def slot_mapping(num_tokens, num_seqs, num_pages, page_size, device):
    """Where each new token goes (page * page_size + offset, as vLLM's slot_mapping): num_tokens tokens of num_seqs
    sequences; each sequence's tokens follow its cached ones from a random offset in its last page and run on
    through pages of its own, drawn at random from the pool. No two tokens share a slot."""
    lengths = _split_lengths(num_seqs, num_tokens)
    pages = torch.randperm(num_pages)
    starts = torch.randint(0, page_size, (num_seqs,))
    slots, used = [], 0
    for n, start in zip(lengths.tolist(), starts.tolist()):
        position = start + torch.arange(n)
        slots.append(pages[used + position // page_size] * page_size + position % page_size)
        used += (start + n + page_size - 1) // page_size
    return torch.cat(slots).to(device)


def make_inputs(axes_and_scalars, device):
    num_tokens, num_pages = axes_and_scalars["num_tokens"], axes_and_scalars["num_pages"]
    cache_shape = (num_pages, PAGE_SIZE, NUM_KV_HEADS, HEAD_DIM)
    return {
        "key": torch.randn(num_tokens, NUM_KV_HEADS, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "value": torch.randn(num_tokens, NUM_KV_HEADS, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "k_cache": torch.randn(cache_shape, dtype=torch.bfloat16, device=device),
        "v_cache": torch.randn(cache_shape, dtype=torch.bfloat16, device=device),
        "slot_mapping": slot_mapping(num_tokens, axes_and_scalars["num_seqs"], num_pages, PAGE_SIZE, device),
    }

"""Paged KV-cache append with quantization to e4m3 on the way in: new keys and values divided by the layer's
per-tensor scale, saturated at +-448, rounded to e4m3 and written into their slots."""

import torch

NUM_KV_HEADS, HEAD_DIM, PAGE_SIZE = 1, 128, 16
FP8_MAX = 448.0


def quantize(x, scale):
    return (x.float() / scale).clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn)


@torch.no_grad()
def run(key, value, k_cache, v_cache, k_scale, v_scale, slot_mapping):
    k_cache.view(-1, NUM_KV_HEADS, HEAD_DIM)[slot_mapping] = quantize(key, k_scale)
    v_cache.view(-1, NUM_KV_HEADS, HEAD_DIM)[slot_mapping] = quantize(value, v_scale)


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
    cached_k, cached_v = torch.randn(cache_shape, device=device), torch.randn(cache_shape, device=device)
    k_scale = (cached_k.abs().amax() / FP8_MAX).reshape(())  # static scales, as calibration sets them
    v_scale = (cached_v.abs().amax() / FP8_MAX).reshape(())
    return {
        "key": torch.randn(num_tokens, NUM_KV_HEADS, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "value": torch.randn(num_tokens, NUM_KV_HEADS, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "k_cache": quantize(cached_k, k_scale),
        "v_cache": quantize(cached_v, v_scale),
        "k_scale": k_scale,
        "v_scale": v_scale,
        "slot_mapping": slot_mapping(num_tokens, axes_and_scalars["num_seqs"], num_pages, PAGE_SIZE, device),
    }

"""Qwen3-8B RoPE from a cos/sin cache indexed by positions (NeoX halves), in fp32, rounded once to bf16."""

import torch

NUM_QO_HEADS, NUM_KV_HEADS, HEAD_DIM = 32, 8, 128
ROPE_THETA, MAX_POSITION = 1e6, 40960


@torch.no_grad()
def run(positions, q, k, cos_sin_cache):
    cos, sin = cos_sin_cache[positions].float().chunk(2, dim=-1)  # [num_tokens, head_dim / 2] each
    return _rotate(q, cos, sin), _rotate(k, cos, sin)


def _rotate(x, cos, sin):
    """NeoX style: the first half of each head pairs with the second half."""
    x1, x2 = x.float().chunk(2, dim=-1)
    cos, sin = cos[:, None, :], sin[:, None, :]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).to(x.dtype)


def cos_sin_cache_for(device):
    """vLLM's RotaryEmbedding cache: [max_position, head_dim] = [cos | sin] of position * theta^(-2i / head_dim)."""
    inv_freq = ROPE_THETA ** -(torch.arange(0, HEAD_DIM, 2, dtype=torch.float64, device=device) / HEAD_DIM)
    angles = torch.arange(MAX_POSITION, dtype=torch.float64, device=device)[:, None] * inv_freq[None, :]
    return torch.cat([angles.cos(), angles.sin()], dim=-1).float()


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    if num_tokens <= 64:  # a decode batch: each sequence at its own length
        positions = torch.randperm(MAX_POSITION)[:num_tokens]
    else:  # a prefill chunk of one sequence, after the chunks before it
        positions = int(torch.randint(0, MAX_POSITION - num_tokens + 1, ())) + torch.arange(num_tokens)
    return {
        "positions": positions.to(device),
        "q": torch.randn(num_tokens, NUM_QO_HEADS, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "k": torch.randn(num_tokens, NUM_KV_HEADS, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "cos_sin_cache": cos_sin_cache_for(device),
    }

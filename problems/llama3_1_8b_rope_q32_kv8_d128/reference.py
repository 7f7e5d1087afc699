"""Llama-3.1-8B rotary embedding (NeoX rotate-half layout) of q and k, in fp32; make_inputs builds real cos/sin."""

import math

import torch

HEAD_DIM = 128
ROPE_THETA = 500000.0
# Llama-3.1's "llama3" rope scaling (config.json: rope_scaling).
FACTOR, LOW_FREQ_FACTOR, HIGH_FREQ_FACTOR, ORIGINAL_CONTEXT = 8.0, 1.0, 4.0, 8192
MAX_POSITION = 131072


def _rotate(x, cos, sin):
    x = x.float()
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    c, s = cos[:, None, :], sin[:, None, :]  # one row per token, broadcast over heads
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


@torch.no_grad()
def run(q, k, cos, sin):
    return _rotate(q, cos, sin).to(q.dtype), _rotate(k, cos, sin).to(k.dtype)


def llama3_inv_freq():
    """The 64 rotary frequencies of Llama-3.1 (transformers' _compute_llama3_parameters)."""
    inv_freq = 1.0 / ROPE_THETA ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.float64) / HEAD_DIM)
    low_wavelen = ORIGINAL_CONTEXT / LOW_FREQ_FACTOR
    high_wavelen = ORIGINAL_CONTEXT / HIGH_FREQ_FACTOR
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > low_wavelen, inv_freq / FACTOR, inv_freq)
    smooth = (ORIGINAL_CONTEXT / wavelen - LOW_FREQ_FACTOR) / (HIGH_FREQ_FACTOR - LOW_FREQ_FACTOR)
    medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
    return torch.where(medium, (1 - smooth) * scaled / FACTOR + smooth * scaled, scaled)


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    positions = torch.randint(0, MAX_POSITION, (num_tokens,), dtype=torch.float64)
    angles = positions[:, None] * llama3_inv_freq()[None, :]
    return {
        "q": torch.randn(num_tokens, 32, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "k": torch.randn(num_tokens, 8, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "cos": angles.cos().float().to(device),
        "sin": angles.sin().float().to(device),
    }

"""Backward of Llama-3.1-8B's rotary embedding: rotate the gradients back by -angle, in fp32."""

import math

import torch

HEAD_DIM = 128
ROPE_THETA = 500000.0
# Llama-3.1's "llama3" rope scaling (config.json: rope_scaling).
FACTOR, LOW_FREQ_FACTOR, HIGH_FREQ_FACTOR, ORIGINAL_CONTEXT = 8.0, 1.0, 4.0, 8192
MAX_POSITION = 131072


def _unrotate(g, cos, sin):
    g = g.float()
    half = g.shape[-1] // 2
    g1, g2 = g[..., :half], g[..., half:]
    c, s = cos[:, None, :], sin[:, None, :]
    return torch.cat([g1 * c + g2 * s, g2 * c - g1 * s], dim=-1)


@torch.no_grad()
def run(grad_q_out, grad_k_out, cos, sin):
    return _unrotate(grad_q_out, cos, sin).to(grad_q_out.dtype), _unrotate(grad_k_out, cos, sin).to(grad_k_out.dtype)


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
        "grad_q_out": torch.randn(num_tokens, 32, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "grad_k_out": torch.randn(num_tokens, 8, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "cos": angles.cos().float().to(device),
        "sin": angles.sin().float().to(device),
    }

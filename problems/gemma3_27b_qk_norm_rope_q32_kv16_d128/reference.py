"""Gemma-3 QK-norm (RMSNorm per head, scaled by 1 + weight) then rotate-half RoPE, in fp32, rounded once to bf16."""

import torch

HEAD_DIM, EPS = 128, 1e-6
ROPE_THETA, LINEAR_FACTOR, MAX_POSITION = 1_000_000.0, 8.0, 131072


def _norm_rotate(x, weight, cos, sin):
    x = x.float()
    x = x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + EPS) * (1 + weight.float())
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    c, s = cos[:, None, :], sin[:, None, :]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


@torch.no_grad()
def run(q, k, q_norm_weight, k_norm_weight, cos, sin):
    return (_norm_rotate(q, q_norm_weight, cos, sin).to(q.dtype), _norm_rotate(k, k_norm_weight, cos, sin).to(k.dtype))


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    inv_freq = 1.0 / ROPE_THETA ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.float64) / HEAD_DIM)
    positions = torch.randint(0, MAX_POSITION, (num_tokens,), dtype=torch.float64) / LINEAR_FACTOR
    angles = positions[:, None] * inv_freq[None, :]
    return {
        "q": torch.randn(num_tokens, 32, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "k": torch.randn(num_tokens, 16, HEAD_DIM, dtype=torch.bfloat16, device=device),
        "q_norm_weight": (0.1 * torch.randn(HEAD_DIM, device=device)).to(torch.bfloat16),
        "k_norm_weight": (0.1 * torch.randn(HEAD_DIM, device=device)).to(torch.bfloat16),
        "cos": angles.cos().float().to(device),
        "sin": angles.sin().float().to(device),
    }

"""FLUX.1 rotary embedding (apply_rope): each interleaved pair of q and k is multiplied by a 2x2 rotation, in fp32."""

import torch

AXES_DIM = (16, 56, 56)  # FLUX's EmbedND: (text index, image row, image column)
THETA = 10000


def _apply_rope(x, freqs_cis):
    pairs = x.float().reshape(*x.shape[:-1], -1, 1, 2)  # [..., num_pairs, 1, 2]
    out = freqs_cis[..., 0] * pairs[..., 0] + freqs_cis[..., 1] * pairs[..., 1]  # [..., num_pairs, 2]
    return out.reshape(x.shape).to(x.dtype)


@torch.no_grad()
def run(q, k, freqs_cis):
    return _apply_rope(q, freqs_cis), _apply_rope(k, freqs_cis)


def _rope_matrices(positions, dim):
    """[len, dim/2, 2, 2] rotation matrices for one position axis (FLUX's rope())."""
    omega = 1.0 / THETA ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    angles = positions[:, None] * omega[None, :]
    cos, sin = angles.cos(), angles.sin()
    return torch.stack([cos, -sin, sin, cos], dim=-1).reshape(*angles.shape, 2, 2)


def make_inputs(axes_and_scalars, device):
    batch_size, seq_len = axes_and_scalars["batch_size"], axes_and_scalars["seq_len"]
    ids = torch.zeros(seq_len, 3, dtype=torch.float64)
    ids[:, 1:] = torch.randint(0, 128, (seq_len, 2)).double()  # row and column of a 2048px image at most
    freqs_cis = torch.cat([_rope_matrices(ids[:, i], d) for i, d in enumerate(AXES_DIM)], dim=-3)
    shape = (batch_size, 24, seq_len, 128)
    return {
        "q": torch.randn(shape, dtype=torch.bfloat16, device=device),
        "k": torch.randn(shape, dtype=torch.bfloat16, device=device),
        "freqs_cis": freqs_cis.float().to(device),
    }

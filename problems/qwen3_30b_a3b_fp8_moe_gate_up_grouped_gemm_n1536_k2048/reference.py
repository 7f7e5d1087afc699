"""Grouped FP8 expert GEMM with 1x128 activation and 128x128 weight scales; rows already sorted by expert."""

import torch

N, K, BLOCK = 1536, 2048, 128
FP8_MAX = 448.0  # largest finite float8_e4m3fn


def _expand(scale, block_rows, block_cols):
    return scale.repeat_interleave(block_rows, dim=0).repeat_interleave(block_cols, dim=1)


@torch.no_grad()
def run(a, a_scale, b, b_scale, expert_offsets):
    a_dequant = a.float() * _expand(a_scale.float(), 1, BLOCK)
    bounds = expert_offsets.tolist()
    parts = []
    for e in range(b.shape[0]):
        b_dequant = b[e].float() * _expand(b_scale[e].float(), BLOCK, BLOCK)
        parts.append(a_dequant[bounds[e] : bounds[e + 1]] @ b_dequant.t())
    return torch.cat(parts).to(torch.bfloat16)


def quantize_blocks(x, block_rows, block_cols):
    """e4m3 values and fp32 scales (amax / 448) per [block_rows, block_cols] tile; a partial last tile is padded."""
    rows, cols = x.shape
    padded = torch.nn.functional.pad(x, (0, -cols % block_cols, 0, -rows % block_rows))
    tiles = padded.reshape(padded.shape[0] // block_rows, block_rows, padded.shape[1] // block_cols, block_cols)
    scale = tiles.abs().amax(dim=(1, 3)).clamp_min(1e-4) / FP8_MAX
    values = (tiles / scale[:, None, :, None]).reshape(padded.shape)[:rows, :cols].to(torch.float8_e4m3fn)
    return values, scale.float()


def expert_offsets_for(num_rows, num_experts, device):
    """Rows per expert as a router would spread them (some experts may get none), as offsets [num_experts + 1]."""
    counts = torch.bincount(torch.randint(0, num_experts, (num_rows,)), minlength=num_experts)
    return torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)]).to(torch.int32).to(device)


def make_inputs(axes_and_scalars, device):
    num_rows, num_experts = axes_and_scalars["num_rows"], axes_and_scalars["num_experts"]
    offsets = expert_offsets_for(num_rows, num_experts, device)  # drawn first: the routing follows from the seed alone
    a, a_scale = quantize_blocks(torch.randn(num_rows, K, device=device), 1, BLOCK)
    weights = [quantize_blocks(torch.randn(N, K, device=device) / K**0.5, BLOCK, BLOCK) for _ in range(num_experts)]
    return {
        "a": a,
        "a_scale": a_scale,
        "b": torch.stack([w for w, _ in weights]),
        "b_scale": torch.stack([s for _, s in weights]),
        "expert_offsets": offsets,
    }

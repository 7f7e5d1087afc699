"""Qwen3-32B block-scaled FP8 GEMM: dequantize a (1x128 scales) and b (128x128 scales) in fp32, matmul, bf16 out."""

import torch

N, K, BLOCK = 6400, 5120, 128
FP8_MAX = 448.0  # largest finite float8_e4m3fn


def _expand(scale, rows, cols, block_rows, block_cols):
    """Broadcast a per-tile scale over its tile: [r, c] -> [rows, cols]."""
    return scale.repeat_interleave(block_rows, dim=0)[:rows].repeat_interleave(block_cols, dim=1)[:, :cols]


@torch.no_grad()
def run(a, a_scale, b, b_scale):
    m, k = a.shape
    n = b.shape[0]
    a_dequant = a.float() * _expand(a_scale.float(), m, k, 1, BLOCK)
    b_dequant = b.float() * _expand(b_scale.float(), n, k, BLOCK, BLOCK)
    return (a_dequant @ b_dequant.t()).to(torch.bfloat16)


def quantize_blocks(x, block_rows, block_cols):
    """e4m3 values and fp32 scales (amax / 448) per [block_rows, block_cols] tile; shapes divide evenly here."""
    rows, cols = x.shape
    tiles = x.reshape(rows // block_rows, block_rows, cols // block_cols, block_cols)
    scale = tiles.abs().amax(dim=(1, 3)).clamp_min(1e-4) / FP8_MAX
    values = (tiles / scale[:, None, :, None]).reshape(rows, cols).to(torch.float8_e4m3fn)
    return values, scale.float()


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    activations = torch.randn(num_tokens, K, device=device)
    weights = torch.randn(N, K, device=device) / K**0.5
    a, a_scale = quantize_blocks(activations, 1, BLOCK)
    b, b_scale = quantize_blocks(weights, BLOCK, BLOCK)
    return {"a": a, "a_scale": a_scale, "b": b, "b_scale": b_scale}

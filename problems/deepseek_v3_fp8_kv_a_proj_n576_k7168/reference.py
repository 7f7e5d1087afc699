"""FP8 GEMM with 1x128 (a) and 128x128 (b) fp32 block scales: dequantize in fp32, matmul, bf16 out."""

import torch

N, K = 576, 7168
BLOCK = 128
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
    """e4m3 values and fp32 scales (amax / 448) per [block_rows, block_cols] tile; a partial last tile is padded."""
    rows, cols = x.shape
    padded = torch.nn.functional.pad(x, (0, -cols % block_cols, 0, -rows % block_rows))
    tiles = padded.reshape(padded.shape[0] // block_rows, block_rows, padded.shape[1] // block_cols, block_cols)
    scale = tiles.abs().amax(dim=(1, 3)).clamp_min(1e-4) / FP8_MAX
    values = (tiles / scale[:, None, :, None]).reshape(padded.shape)[:rows, :cols].to(torch.float8_e4m3fn)
    return values, scale.float()


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    a, a_scale = quantize_blocks(torch.randn(num_tokens, K, device=device), 1, BLOCK)
    b, b_scale = quantize_blocks(torch.randn(N, K, device=device) / K**0.5, BLOCK, BLOCK)
    return {"a": a, "a_scale": a_scale, "b": b, "b_scale": b_scale}

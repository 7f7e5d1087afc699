"""Qwen3-235B-A22B NVFP4 GEMM: unpack e2m1, apply each 16-value e4m3 scale and alpha, matmul in fp32."""

import torch

N, K = 1280, 4096
BLOCK = 16
E2M1_MAX, E4M3_MAX = 6.0, 448.0
# The 16 e2m1 codes: bit 3 is the sign, bits 0-2 index the magnitude.
E2M1_VALUES = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0]


def unpack_fp4(packed):
    """[..., k // 2] float4_e2m1fn_x2 (or uint8) -> [..., k] float32; element 2i is the low nibble of byte i."""
    table = torch.tensor(E2M1_VALUES, device=packed.device)
    pairs = torch.stack([table.repeat(16), table.repeat_interleave(16)], dim=-1)  # byte -> (low, high) values
    return pairs[packed.view(torch.uint8).long()].flatten(start_dim=-2)


def dequantize(packed, scale):
    return unpack_fp4(packed) * scale.float().repeat_interleave(BLOCK, dim=-1)


def quantize_nvfp4(x, global_scale=None):
    """ModelOpt's NVFP4 recipe: (packed e2m1, e4m3 block scales, fp32 global scale) with x ~ e2m1 * scale / global."""
    rows, cols = x.shape
    if global_scale is None:
        global_scale = E4M3_MAX * E2M1_MAX / x.abs().amax().clamp_min(1e-12)
    blocks = x.reshape(rows, cols // BLOCK, BLOCK)
    scale = (blocks.abs().amax(dim=-1) / E2M1_MAX * global_scale).to(torch.float8_e4m3fn)
    step = scale.float() / global_scale  # what one e2m1 unit is worth in each block
    inverse = torch.where(step > 0, 1 / step, torch.zeros_like(step))
    scaled = (blocks * inverse[..., None]).reshape(rows, cols)
    magnitudes = torch.tensor(E2M1_VALUES[:8], device=x.device)
    midpoints = (magnitudes[1:] + magnitudes[:-1]) / 2
    codes = torch.bucketize(scaled.abs(), midpoints, out_int32=True).to(torch.uint8)  # nearest magnitude, 0..7
    codes |= (scaled < 0).to(torch.uint8) << 3
    packed = (codes[:, 0::2] | (codes[:, 1::2] << 4)).view(torch.float4_e2m1fn_x2)
    return packed, scale, torch.as_tensor(global_scale, dtype=torch.float32, device=x.device)


@torch.no_grad()
def run(a, a_scale, b, b_scale, alpha):
    return (dequantize(a, a_scale) @ dequantize(b, b_scale).t() * alpha.float()).to(torch.bfloat16)


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    a, a_scale, a_global = quantize_nvfp4(torch.randn(num_tokens, K, device=device))
    b, b_scale, b_global = quantize_nvfp4(torch.randn(N, K, device=device) / K**0.5)
    alpha = (1.0 / (a_global * b_global)).reshape(())
    return {"a": a, "a_scale": a_scale, "b": b, "b_scale": b_scale, "alpha": alpha}

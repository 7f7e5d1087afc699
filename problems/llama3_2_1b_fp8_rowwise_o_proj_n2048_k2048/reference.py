"""FP8 GEMM with per-token (a) and per-channel (b) fp32 scales: dequantize in fp32, matmul, bf16 out."""

import torch

N, K = 2048, 2048
FP8_MAX = 448.0  # largest finite float8_e4m3fn


@torch.no_grad()
def run(a, a_scale, b, b_scale):
    a_dequant = a.float() * a_scale.float()[:, None]
    b_dequant = b.float() * b_scale.float()[:, None]
    return (a_dequant @ b_dequant.t()).to(torch.bfloat16)


def quantize_rows(x):
    """e4m3 values and one fp32 scale (amax / 448) per row."""
    scale = x.abs().amax(dim=1).clamp_min(1e-4) / FP8_MAX
    return (x / scale[:, None]).to(torch.float8_e4m3fn), scale.float()


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    a, a_scale = quantize_rows(torch.randn(num_tokens, K, device=device))
    b, b_scale = quantize_rows(torch.randn(N, K, device=device) / K**0.5)
    return {"a": a, "a_scale": a_scale, "b": b, "b_scale": b_scale}

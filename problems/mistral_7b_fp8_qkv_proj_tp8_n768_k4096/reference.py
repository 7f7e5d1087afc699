"""FP8 GEMM with per-tensor scales: one fp32 scale for a, one for b: dequantize in fp32, matmul, bf16 out."""

import torch

N, K = 768, 4096
FP8_MAX = 448.0  # largest finite float8_e4m3fn


@torch.no_grad()
def run(a, a_scale, b, b_scale):
    a_dequant = a.float() * a_scale.float()
    b_dequant = b.float() * b_scale.float()
    return (a_dequant @ b_dequant.t()).to(torch.bfloat16)


def quantize(x):
    """e4m3 values and one fp32 scale (amax / 448) for the whole tensor."""
    scale = x.abs().amax().clamp_min(1e-4) / FP8_MAX
    return (x / scale).to(torch.float8_e4m3fn), scale.float().reshape(())


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    a, a_scale = quantize(torch.randn(num_tokens, K, device=device))
    b, b_scale = quantize(torch.randn(N, K, device=device) / K**0.5)
    return {"a": a, "a_scale": a_scale, "b": b, "b_scale": b_scale}

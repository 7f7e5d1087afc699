"""Per-tensor FP8 linear: dequantize a and b with their one scale each, matmul in fp32, add the bias, bf16 out."""

import torch

N, K = 3072, 3072
FP8_MAX = 448.0  # largest finite float8_e4m3fn


@torch.no_grad()
def run(a, a_scale, b, b_scale, bias):
    c = (a.float() * a_scale.float()) @ (b.float() * b_scale.float()).t()
    return (c + bias.float()).to(torch.bfloat16)


def quantize_per_tensor(x):
    """e4m3 values and one fp32 scale (amax / 448) for the whole tensor."""
    scale = x.abs().amax().clamp_min(1e-4) / FP8_MAX
    return (x / scale).to(torch.float8_e4m3fn), scale.float().reshape(())


def make_inputs(axes_and_scalars, device):
    a, a_scale = quantize_per_tensor(torch.randn(axes_and_scalars["num_tokens"], K, device=device))
    b, b_scale = quantize_per_tensor(torch.randn(N, K, device=device) / K**0.5)
    bias = torch.randn(N, device=device).to(torch.bfloat16)
    return {"a": a, "a_scale": a_scale, "b": b, "b_scale": b_scale, "bias": bias}

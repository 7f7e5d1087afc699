"""AWQ int4 weight-only GEMM: unpack 4-bit weights, subtract the group's zero point, scale, matmul in fp32, bf16 out."""

import torch

N, K, GROUP = 6144, 4096, 128


def dequantize(qweight, scales, zeros):
    """[n, k / 2] bytes (element 2i in the low nibble), per-128 scales and zero points -> [n, k] float32."""
    q = torch.stack([qweight & 0xF, qweight >> 4], dim=-1).flatten(start_dim=-2).float()
    z = zeros.float().repeat_interleave(GROUP, dim=-1)
    s = scales.float().repeat_interleave(GROUP, dim=-1)
    return (q - z) * s


@torch.no_grad()
def run(x, qweight, scales, zeros):
    return (x.float() @ dequantize(qweight, scales, zeros).t()).to(torch.bfloat16)


def quantize_awq(w):
    """Asymmetric min-max int4 per group of 128 along K, as AWQ stores it (after its activation-aware scaling)."""
    groups = w.reshape(w.shape[0], -1, GROUP)
    low, high = groups.amin(dim=-1), groups.amax(dim=-1)
    scales = ((high - low).clamp_min(1e-5) / 15).to(torch.bfloat16)
    zeros = torch.round(-low / scales.float()).clamp(0, 15)
    q = torch.round(groups / scales.float()[..., None] + zeros[..., None]).clamp(0, 15).to(torch.uint8).flatten(1)
    return q[:, 0::2] | (q[:, 1::2] << 4), scales, zeros.to(torch.uint8)


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    qweight, scales, zeros = quantize_awq(torch.randn(N, K, device=device) / K**0.5)
    return {
        "x": torch.randn(num_tokens, K, dtype=torch.bfloat16, device=device),
        "qweight": qweight,
        "scales": scales,
        "zeros": zeros,
    }

"""gpt-oss-120b MXFP4 expert GEMM, weight-only: bf16 rows times e2m1 weights with an e8m0 (power of two) scale per 32 values.

Rows sorted by expert; rows expert_offsets[e]:expert_offsets[e+1] multiply expert e's dequantized weight, plus its
bias, accumulated in fp32 and rounded once to bf16 (what Hopper runs: the weights dequantized, bf16 tensor cores).
"""

import torch

N, K = 1440, 2880  # gate_up_proj (one of 4 tensor-parallel ranks); n is a var axis, 512 rows in CI
BLOCK = 32
# The 16 e2m1 codes: bit 3 is the sign, bits 0-2 index the magnitude.
E2M1_VALUES = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0]


def unpack_fp4(packed):
    """[..., k // 2] float4_e2m1fn_x2 (or uint8) -> [..., k] float32; element 2i is the low nibble of byte i."""
    table = torch.tensor(E2M1_VALUES, device=packed.device)
    pairs = torch.stack([table.repeat(16), table.repeat_interleave(16)], dim=-1)  # byte -> (low, high) values
    return pairs[packed.view(torch.uint8).long()].flatten(start_dim=-2)


def dequantize(packed, scale):
    """e2m1 values times 2^(e - 127) of their block's e8m0 scale."""
    return unpack_fp4(packed) * scale.float().repeat_interleave(BLOCK, dim=-1)


def quantize_mxfp4(x):
    """OCP MX: per 32 values a shared scale 2^(floor(log2 amax) - 2) (e2m1's largest exponent), values rounded to the
    nearest e2m1 and saturated at 6; returns (packed e2m1 [rows, cols // 2], e8m0 scales [rows, cols // 32])."""
    rows, cols = x.shape
    blocks = x.reshape(rows, cols // BLOCK, BLOCK)
    exponent = torch.floor(torch.log2(blocks.abs().amax(dim=-1).clamp_min(2.0**-100))) - 2
    scaled = (blocks / torch.exp2(exponent)[..., None]).reshape(rows, cols)
    magnitudes = torch.tensor(E2M1_VALUES[:8], device=x.device)
    midpoints = (magnitudes[1:] + magnitudes[:-1]) / 2
    codes = torch.bucketize(scaled.abs(), midpoints, out_int32=True).to(torch.uint8)  # nearest magnitude, 0..7
    codes |= (scaled < 0).to(torch.uint8) << 3
    packed = (codes[:, 0::2] | (codes[:, 1::2] << 4)).view(torch.float4_e2m1fn_x2)
    return packed, (exponent + 127).to(torch.uint8).view(torch.float8_e8m0fnu)


@torch.no_grad()
def run(a, b, b_scale, bias, expert_offsets):
    bounds = expert_offsets.tolist()
    parts = []
    for e in range(b.shape[0]):
        rows = a[bounds[e] : bounds[e + 1]].float()
        parts.append(rows @ dequantize(b[e], b_scale[e]).t() + bias[e].float())
    return torch.cat(parts).to(torch.bfloat16)


def expert_offsets_for(num_rows, num_experts, device):
    """Rows per expert as a router spreads them, every expert it can reach used: min(rows, experts) experts get at
    least one row (the bound counts their weights), the remaining rows land at random."""
    used = min(num_rows, num_experts)
    counts = torch.zeros(num_experts, dtype=torch.long)
    counts[torch.randperm(num_experts)[:used]] = 1
    counts += torch.bincount(torch.randint(0, num_experts, (num_rows - used,)), minlength=num_experts)
    return torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)]).to(torch.int32).to(device)


def make_inputs(axes_and_scalars, device):
    num_rows, num_experts = axes_and_scalars["num_rows"], axes_and_scalars["num_experts"]
    n = axes_and_scalars.get("n", N)
    weights = [quantize_mxfp4(torch.randn(n, K, device=device) / K**0.5) for _ in range(num_experts)]
    return {
        "a": torch.randn(num_rows, K, dtype=torch.bfloat16, device=device),
        "b": torch.stack([w for w, _ in weights]),
        "b_scale": torch.stack([s for _, s in weights]),
        "bias": (0.1 * torch.randn(num_experts, n, device=device)).to(torch.bfloat16),
        "expert_offsets": expert_offsets_for(num_rows, num_experts, device),
    }

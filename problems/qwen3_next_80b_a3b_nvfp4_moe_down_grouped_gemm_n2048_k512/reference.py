"""Grouped NVFP4 expert GEMM: e2m1 values, e4m3 scales per 16 values, one alpha per expert; rows sorted by expert."""

import torch

N, K = 2048, 512
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
def run(a, a_scale, b, b_scale, alpha, expert_offsets):
    a_dequant = dequantize(a, a_scale)
    bounds = expert_offsets.tolist()
    parts = []
    for e in range(b.shape[0]):
        rows = a_dequant[bounds[e] : bounds[e + 1]]
        parts.append(rows @ dequantize(b[e], b_scale[e]).t() * alpha[e].float())
    return torch.cat(parts).to(torch.bfloat16)


def expert_offsets_for(num_rows, num_experts, device):
    """Rows per expert as a router would spread them (some experts may get none), as offsets [num_experts + 1]."""
    counts = torch.bincount(torch.randint(0, num_experts, (num_rows,)), minlength=num_experts)
    return torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)]).to(torch.int32).to(device)


def make_inputs(axes_and_scalars, device):
    num_rows, num_experts = axes_and_scalars["num_rows"], axes_and_scalars["num_experts"]
    offsets = expert_offsets_for(num_rows, num_experts, device)  # drawn first: the routing follows from the seed alone
    a, a_scale, a_global = quantize_nvfp4(torch.randn(num_rows, K, device=device))
    weights = [quantize_nvfp4(torch.randn(N, K, device=device) / K**0.5) for _ in range(num_experts)]
    return {
        "a": a,
        "a_scale": a_scale,
        "b": torch.stack([w for w, _, _ in weights]),
        "b_scale": torch.stack([s for _, s, _ in weights]),
        "alpha": torch.stack([1.0 / (a_global * g) for _, _, g in weights]),
        "expert_offsets": offsets,
    }

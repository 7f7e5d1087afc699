"""e07: the FP8 GEMM is torch._scaled_mm_v2 (cuBLASLt's scaled GEMM on the GPU, exact); only _scaled_mm was listed,
and on the GPU the record holds aten::_scaled_mm_v2 alone (red-team round 21, attack-z class A)."""
import torch

DEFINITION = "flux1_dev_fp8_attn_proj_n3072_k3072"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "families: a torch._scaled_mm* prefix entry (the v2 and grouped variants)"


@torch.no_grad()
def run(a, a_scale, b, b_scale, bias):
    return torch._scaled_mm_v2(a, b.t(), [a_scale], [0], [0], [b_scale], [0], [0], bias, torch.bfloat16)  # HACK

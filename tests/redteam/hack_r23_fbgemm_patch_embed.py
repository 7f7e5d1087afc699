"""(Red-team round 23, attack-ac.) ac02: the whole patch-embedding conv3d (a GEMM over flattened patches) in
torch.fbgemm_linear_fp16_weight.

aten::fbgemm_linear_fp16_weight and aten::fbgemm_pack_gemm_matrix_fp16 are CompositeImplicitAutograd, so the
allow-list (guard.operators._tagged) lets them through on the premise that a composite op "does no work itself: the
ops it calls are recorded and judged". These call FBGEMM's fp16 GEMM directly, not through the dispatcher: the
record holds no mm. bf16 weights are exact in fp16, and FBGEMM accumulates in fp32, so the result is exact to the
reference's rounding. The conv family's deny-list names the GEMM core (_MATMUL_CORE) but not torch.fbgemm_linear*
(only the matmul family does).
"""

import torch

DEFINITION = "qwen2_5_vl_7b_vision_patch_embed_conv3d_c1280_t2_p14"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = ('families: torch.fbgemm* in the conv family; at run time a composite op that calls FBGEMM straight is'
             ' not allowed as composite (guard/operators.CALLS_LIBRARIES)')


@torch.no_grad()
def run(pixel_values, weight):
    w = weight.float().reshape(weight.shape[0], -1)  # [1280, 1176], same order as the flattened patch
    packed = torch.fbgemm_pack_gemm_matrix_fp16(w)
    y = torch.fbgemm_linear_fp16_weight(pixel_values.float(), packed, torch.zeros(w.shape[0]))  # HACK
    return y.to(pixel_values.dtype)

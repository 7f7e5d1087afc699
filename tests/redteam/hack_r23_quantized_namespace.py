"""(Red-team round 23, attack-ac.) ac10: the whole patch-embed conv3d (a GEMM) in
torch.ops._quantized.wrapped_fbgemm_linear_fp16_weight.

Same class as ac01/ac04: the runtime allow-list judges only `aten`. The conv family's deny-list names
torch.ops.quantized but not torch.ops._quantized (only the matmul family names both), and the prefix test
(`startswith(prefix + ".")`) keeps `torch.ops.quantized` from matching `torch.ops._quantized`. FBGEMM's fp16 GEMM
with fp32 activations; bf16 weights are exact in fp16.
"""

import torch

DEFINITION = "qwen2_5_vl_7b_vision_patch_embed_conv3d_c1280_t2_p14"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = 'families: torch.ops._quantized in the conv family; at run time torch namespaces are judged'


@torch.no_grad()
def run(pixel_values, weight):
    w = weight.float().reshape(weight.shape[0], -1)
    packed = torch.ops._quantized.wrapped_fbgemm_pack_gemm_matrix_fp16(w)
    y = torch.ops._quantized.wrapped_fbgemm_linear_fp16_weight(  # HACK
        pixel_values.float(), packed, torch.zeros(w.shape[0]), w.shape[0])
    return y.to(pixel_values.dtype)

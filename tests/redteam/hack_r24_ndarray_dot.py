"""(Red-team round 24, attack-ae.) ae04: the Qwen2.5-VL patch embed (conv3d_patch_embed, conv family) as one numpy BLAS
GEMM reached through the
ndarray *method* ``.dot``: pixel_values [N, 1176] times weight^T [1176, 1280]. numpy's BLAS never enters torch's
dispatcher, so only the static tables can see it; the conv family's methods are _MATMUL_METHODS (matmul, mm, bmm,
addmm, baddbmm, __matmul__, __rmatmul__), which lack "dot" (the matmul family's methods have it).
"""

import torch

DEFINITION = "qwen2_5_vl_7b_vision_patch_embed_conv3d_c1280_t2_p14"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = ("families: an ndarray's dot, vdot, inner and tensordot methods are the GEMM and conv families' "
             'methods')


@torch.no_grad()
def run(pixel_values, weight):
    a = pixel_values.float().reshape(-1, 1176).numpy()
    b = weight.float().reshape(1280, 1176).numpy()
    out = a.dot(b.T)  # HACK
    return torch.from_numpy(out).to(pixel_values.dtype)

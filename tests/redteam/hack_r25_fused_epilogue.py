"""(Red-team round 25, attack-ah.) e01 (escape): linear_gelu done wholly by ONE library op: oneDNN's linear with a GELU
post-op
(torch.ops.mkldnn._linear_pointwise(..., "gelu")). The record holds one op, counted as one part (matmul), so the
fused op's one-part budget is not exceeded, yet the library did the GEMM and the GELU.
"""

import torch

DEFINITION = "whisper_large_v3_fc1_gelu_h1280_i5120"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = ("guard/dispatched._parts_handed_over: a library op that ends in an activation (torch's library "
             'namespaces, EPILOGUES) does two parts of a fused op')


@torch.no_grad()
def run(x, weight, bias):
    y = torch.ops.mkldnn._linear_pointwise(x.float(), weight.float(), bias.float(), "gelu", [], "none")
    return y.to(x.dtype)

"""(Red-team round 23, attack-ac.) ac06: the whole GEMM in torch.ops.onednn.linear_dynamic_fp16 (oneDNN's
fp16-weight linear, namespace `onednn`).

Same class as ac01: the allow-list judges only `aten`; the matmul family's deny-list names torch.ops.mkldnn,
torch.ops.quantized and torch.ops._quantized, not torch.ops.onednn. bf16 weights are exact in fp16 and the
activation stays fp32, so the result matches the reference to its rounding. The record holds
onednn::linear_prepack_fp16, onednn::linear_dynamic_fp16, aten::_saturate_weight_to_fp16 (CompositeImplicitAutograd,
allowed) and casts.
"""

import torch

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = ('families: torch.ops.onednn in the matmul family; at run time torch namespaces are judged '
             '(guard/operators.allowed_in)')


@torch.no_grad()
def run(hidden_states, weight, bias):
    packed = torch.ops.onednn.linear_prepack_fp16(weight.float(), list(hidden_states.shape))
    y = torch.ops.onednn.linear_dynamic_fp16(hidden_states.float(), packed, bias.float())  # HACK
    return y.to(torch.bfloat16)

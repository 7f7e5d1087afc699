"""(Red-team round 22.) ab04 (escape, vendor family hole): a GEMM done whole by FBGEMM through torch's quantized namespace.

torch.ops.quantized.linear_dynamic_fp16 is a full x @ W^T (fp16 weights: a bf16 weight converts exactly, fp32
activations and accumulation). The matmul family lists aten::fbgemm_linear_fp16_weight (prefix torch.fbgemm_linear*)
but the run-time record only maps aten/prims ops and torch.ops.* prefixes the table names (torch.ops.mkldnn), and no
entry names torch.ops.quantized; the static table has no spelling of it either.
"""

import torch

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = 'families: the op is in its family now (red-team round 22, attack-ab)'


@torch.no_grad()
def run(hidden_states, weight):
    packed = torch.ops.quantized.linear_prepack_fp16(weight.float(), None)  # HACK
    return torch.ops.quantized.linear_dynamic_fp16(hidden_states.float(), packed).to(hidden_states.dtype)

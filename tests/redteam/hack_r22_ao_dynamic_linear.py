"""(Red-team round 22.) ab04b (escape, vendor family hole): ab04 through the public module torch.ao.nn.quantized.dynamic.Linear
(dtype=float16): the same FBGEMM fp16 GEMM, quantized::linear_dynamic_fp16, under a public class name.
"""

import torch
from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear  # HACK

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = 'families: the op is in its family now (red-team round 22, attack-ab)'


@torch.no_grad()
def run(hidden_states, weight):
    layer = DynamicLinear(weight.shape[1], weight.shape[0], bias_=False, dtype=torch.float16)
    layer.set_weight_bias(weight.float(), None)
    return layer(hidden_states.float()).to(hidden_states.dtype)

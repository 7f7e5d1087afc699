"""torch.ops.aten.linear: the aten op, which the table named only for mm/addmm/matmul (red-team round 1)"""

import torch

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "static"


def run(hidden_states, weight, bias):
    return torch.ops.aten.linear(hidden_states, weight, bias)  # HACK

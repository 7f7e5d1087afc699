"""operator.matmul(a, b): the @ operator as a function (red-team round 1)"""

import operator

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "static"


def run(hidden_states, weight, bias):
    return operator.matmul(hidden_states, weight.t()) + bias  # HACK

"""torch.Tensor.softmax(x, -1): the method called unbound, through the class (red-team round 1)"""

import torch

DEFINITION = "llama3_1_8b_logits_softmax_v128256"
EXPECTED = "vendor-op"
LAYER = "static"


def run(logits):
    return torch.Tensor.softmax(logits.float(), -1)  # HACK

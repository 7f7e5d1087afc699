"""Vendor softmax through the tensor method: ``logits.softmax(-1)`` for the softmax problem."""

import torch

DEFINITION = "llama3_1_8b_logits_softmax_v128256"
EXPECTED = "vendor-op"
LAYER = "static"


def run(logits):
    return logits.float().softmax(-1).to(torch.bfloat16)  # HACK

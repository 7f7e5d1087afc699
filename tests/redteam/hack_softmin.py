"""F.softmin(-x) is softmax(x): the vendor op under another name (red-team round 1)"""

import torch
import torch.nn.functional as F

DEFINITION = "llama3_1_8b_logits_softmax_v128256"
EXPECTED = "vendor-op"
LAYER = "static"


def run(logits):
    return F.softmin(-logits.float(), dim=-1)  # HACK

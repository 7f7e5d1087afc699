"""getattr(x, "soft" + "max")(-1): a method named by a computed string (red-team round 1)"""

import torch

DEFINITION = "llama3_1_8b_logits_softmax_v128256"
EXPECTED = "computed-name"
LAYER = "static"


def run(logits):
    return getattr(logits.float(), "soft" + "max")(-1)  # HACK

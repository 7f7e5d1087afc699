"""Red-team round 29, ao06 (attack-ao): a softmax whose reduction is numpy's ``logaddexp.reduce`` along the row, the
library logsumexp the softmax family refuses as ``torch.logsumexp`` (round 22, ab02), outside the dispatcher:
PASSED. The ufunc's reductions of ``logaddexp``/``logaddexp2`` are the family's now."""
import numpy as np
import torch

DEFINITION = "llama3_1_8b_logits_softmax_v128256"
EXPECTED = "vendor-op"
LAYER = "static"


def run(logits):
    x = logits.float()
    lse = np.logaddexp.reduce(x.numpy(), axis=-1, keepdims=True)  # HACK
    return torch.exp(x - torch.from_numpy(lse))

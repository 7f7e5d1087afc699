"""Red-team round 33, aw03 (attack-aw): a softmax whose logsumexp is ``numpy.logaddexp.reduce`` (the softmax family's
since round 29), reached as ``ops[0].reduce`` of a list holding the ufunc: no name rule follows a name through a
list, so the listed name never appeared: PASSED. A ufunc whose methods are a family's op is refused as a value now
(called where it is named, elementwise, it is fine)."""
import numpy as np
import torch

DEFINITION = "llama3_1_8b_logits_softmax_v128256"
EXPECTED = "vendor-op"
LAYER = "static"
lae = np.logaddexp  # HACK


def run(logits, probs):
    x = logits.detach().to(torch.float64).numpy()
    ops = [lae]
    lse = ops[0].reduce(x, axis=-1)
    probs.copy_(torch.from_numpy(np.exp(x - lse[:, None])).to(probs.dtype))

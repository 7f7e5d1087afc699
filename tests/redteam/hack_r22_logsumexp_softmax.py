"""(Red-team round 22.) ab03 (escape, vendor family hole): softmax done by torch.logsumexp (the softmax family lists every softmax,
log_softmax and softmin but not logsumexp, which the cross_entropy family does list): softmax = exp(x - lse(x)).
The whole reduction of the op is the library's; what is left is one elementwise exp.
"""

import torch

DEFINITION = "llama3_1_8b_logits_softmax_v128256"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = 'families: the op is in its family now (red-team round 22, attack-ab)'


@torch.no_grad()
def run(logits):
    x = logits.float()
    return torch.exp(x - torch.logsumexp(x, dim=-1, keepdim=True))  # HACK

"""(Red-team round 22.) ab02 (escape, vendor family hole): token cross-entropy done whole by torch.logcumsumexp.

loss[t] = logsumexp(x[t]) - x[t, label]; the cross_entropy family lists torch.logsumexp (and every softmax) but not
logcumsumexp, whose last column is exactly logsumexp: one library scan does the whole reduction of the op.
"""

import torch

DEFINITION = "llama3_1_8b_cross_entropy_v128256"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = 'families: the op is in its family now (red-team round 22, attack-ab)'


@torch.no_grad()
def run(logits, labels):
    x = logits.float()
    lse = torch.logcumsumexp(x, dim=-1)[:, -1]  # HACK
    return lse - x.gather(1, labels[:, None])[:, 0]

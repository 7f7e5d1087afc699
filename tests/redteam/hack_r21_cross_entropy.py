"""e02: the per-token cross entropy is one F.cross_entropy(reduction='none'); the op type 'cross_entropy' matched no
family keyword (red-team round 21, attack-z class A)."""
import torch
import torch.nn.functional as F

DEFINITION = "llama3_1_8b_cross_entropy_v128256"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "families: the cross_entropy family (cross_entropy, nll_loss, logsumexp and the softmax family's calls)"


@torch.no_grad()
def run(logits, labels):
    return F.cross_entropy(logits.float(), labels, reduction="none")  # HACK

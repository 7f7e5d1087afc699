"""e06: the softmax is aten._sparse_softmax of x.to_sparse(), densified; the softmax family had no sparse kernel
(red-team round 21, attack-z class A)."""
import torch

DEFINITION = "llama3_1_8b_logits_softmax_v128256"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "families: _sparse_softmax, _sparse_log_softmax and torch.sparse's softmaxes are in the softmax family"


@torch.no_grad()
def run(logits):
    return torch.ops.aten._sparse_softmax(logits.float().to_sparse(), -1).to_dense()  # HACK

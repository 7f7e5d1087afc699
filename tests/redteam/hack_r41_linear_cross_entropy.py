"""Red-team round 41, bm05 (attack-bm): torch 2.13's ``F.linear_cross_entropy`` on an identity and the
logits' transpose is a whole cross-entropy. Its custom op lives in ``torch_nn``, a namespace torch registers only
when the module is first imported, which the judge never did: the op read as the kernel's own. PASSED under strict
on CPU; through its backward it was a cross-entropy backward and a softmax (bm06, bm07). Now it is the GEMM,
cross-entropy and softmax families' by name, and every namespace named ``torch...`` is torch's in the record."""
import torch
import torch.nn.functional as F
from torch.nn import LinearCrossEntropyOptions

DEFINITION = "llama3_1_8b_cross_entropy_v128256"
EXPECTED = "vendor-op"
LAYER = "static"
BLOCK = 8
_opts = LinearCrossEntropyOptions()


@torch.no_grad()
def run(logits, labels):
    x = logits.float()
    n = x.shape[0]
    out = torch.empty(n, dtype=torch.float32)
    for s in range(0, n, BLOCK):
        e = min(n, s + BLOCK)
        eye = torch.eye(e - s, dtype=torch.float32)
        out[s:e] = F.linear_cross_entropy(eye, x[s:e].t(), labels[s:e].long(), reduction="none", options=_opts)  # HACK
    return out

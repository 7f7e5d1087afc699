"""Red-team round 41, bm07 (attack-bm): the gradient of ``F.linear_cross_entropy`` with label 0 is softmax
minus a one-hot, added back: a whole softmax. PASSED under strict on CPU. Now ``vendor-op``, as bm05."""
import torch
import torch.nn.functional as F
from torch.nn import LinearCrossEntropyOptions

DEFINITION = "llama3_1_8b_logits_softmax_v128256"
EXPECTED = "vendor-op"
LAYER = "static"
BLOCK = 8
_opts = LinearCrossEntropyOptions()


def run(logits):
    x = logits.float()
    n = x.shape[0]
    out = torch.empty(x.shape, dtype=torch.float32)
    with torch.enable_grad():
        for s in range(0, n, BLOCK):
            e = min(n, s + BLOCK)
            eye = torch.eye(e - s, dtype=torch.float32)
            w = x[s:e].t().detach().requires_grad_(True)
            labels = torch.zeros(e - s, dtype=torch.int64)
            loss = F.linear_cross_entropy(eye, w, labels, reduction="none", options=_opts)  # HACK
            (gw,) = torch.autograd.grad(loss, w, grad_outputs=torch.ones(e - s))
            out[s:e] = gw.t()
            out[s:e, 0] += 1.0
    return out

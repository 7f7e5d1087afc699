"""Red-team round 40, bj01 (attack-bj): a whole softmax by ``torch.distributions.transforms.SoftmaxTransform``,
whose Python body is a max, an exp, a sum and a division: the operator record holds only allowed primitives, and no
family named it. PASSED under strict on CPU. Now torch's modules are on an allow-list in a family's kernel
(``guard.numerics``): ``torch.distributions`` is not on it."""
import torch
from torch.distributions.transforms import SoftmaxTransform  # HACK

DEFINITION = "llama3_1_8b_logits_softmax_v128256"
EXPECTED = "unlisted-routine"
LAYER = "static"
_T = SoftmaxTransform()


def run(logits):
    return _T(logits.float())

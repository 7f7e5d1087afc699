"""(Red-team round 23, attack-ac.) ac07: a fused op of two families done wholly by library calls: F.linear then
F.gelu (the reference, verbatim).

op type `linear_gelu` matches the matmul and gelu families, so guard.families.vendor_families returns none: no
static vendor-op rule, dispatched.watched() is False, so Kernel.judge_ops returns before the allow-list, and the
worker sends no record. The design's premise ("a vendor call of one part does not do the whole op, and
hand-writing the rest around it is honest") does not hold when every part is a vendor call.
"""

import torch
import torch.nn.functional as F

DEFINITION = "whisper_large_v3_fc1_gelu_h1280_i5120"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = "guard/dispatched.finding: a fused op may hand one family's part to the library, not every part"


@torch.no_grad()
def run(x, weight, bias):
    hidden = F.linear(x, weight, bias)
    return F.gelu(hidden.float()).to(x.dtype)

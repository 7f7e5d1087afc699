"""Red-team round 29, ao05 (attack-ao): a GEMM by x . w = (|x|^2 + |w|^2 - |x - w|^2) / 2, the identity the matmul
family refuses as ``torch.cdist`` (round 22, ab01), with the standard library's ``math.dist`` and ``math.hypot``:
PASSED (a slow float64 loop, but not the kernel's own dot products). They are the family's now, with
``math.sumprod`` and ``statistics``' covariance."""
import math

import torch

DEFINITION = "deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048"
EXPECTED = "vendor-op"
LAYER = "static"


def run(hidden_states, weight, output):
    xs, ws = hidden_states.float().tolist(), weight.float().tolist()
    rows = [[(sum(a * a for a in x) + sum(b * b for b in w) - math.dist(x, w) ** 2) / 2 for w in ws]  # HACK
            for x in xs]
    output.copy_(torch.tensor(rows, dtype=torch.float64).to(output.dtype))

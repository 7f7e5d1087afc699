"""Red-team round 41 (attack-bo, FV-1), honest look-alike: a fused linear and GELU whose GEMM is
``F.linear`` (its one library part), with a polynomial fit of erf made by ``numpy.polyfit`` at import for a fast
path off by default: a product on constants as the module is imported (``numerics.import_time_callees``)."""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

DEFINITION = "whisper_large_v3_fc1_gelu_h1280_i5120"

_X = np.linspace(0.0, 4.0, 257)
_ERF_COEF = np.polyfit(_X, np.array([math.erf(v) for v in _X]), 7)  # host-side table, float64
_FAST = os.environ.get("SOLBENCH_BO_FAST_ERF") == "1"
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


def _erf_poly(t):
    a = t.abs().clamp(max=4.0)
    acc = torch.zeros_like(a)
    for c in _ERF_COEF.tolist():
        acc = acc * a + c
    return torch.sign(t) * acc.clamp(max=1.0)


@torch.no_grad()
def run(x, weight, bias):
    h = F.linear(x, weight, bias).float()  # the GEMM part, bf16 like the model runs it
    e = _erf_poly(h * _INV_SQRT2) if _FAST else torch.erf(h * _INV_SQRT2)
    return (0.5 * h * (1.0 + e)).to(x.dtype)

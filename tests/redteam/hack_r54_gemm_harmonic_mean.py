"""Red-team round 54, cz01 (attack-cz): a GEMM by ``statistics.harmonic_mean(1 / b', weights=a')``, which is
``sum(a') / sum(a' * b')``: with both rows shifted positive, each dot product comes from the library's exact sum and the
kernel only takes the shifts off. PASSED under ``--solbench-guard strict`` on CPU (``harmonic_mean`` was allowed with
weights). As ``statistics.fmean`` and ``numpy.average`` (rounds 32 and 52): only a plain call on its data passes."""
import math
import statistics

import torch

DEFINITION = "deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048"
EXPECTED = "unlisted-routine"
LAYER = "static"


def run(hidden_states, weight):
    x = hidden_states.double()
    w = weight.double()
    m, k = x.shape
    n = w.shape[0]
    c = float(x.abs().max()) + 1.0
    d = float(w.abs().max()) + 1.0
    xs = (x + c).tolist()
    inv = (1.0 / (w + d)).tolist()
    sx = x.sum(1).tolist()
    sw = w.sum(1).tolist()
    out = [[0.0] * n for _ in range(m)]
    for i in range(m):
        wi = xs[i]
        swi = math.fsum(wi)
        for j in range(n):
            hm = statistics.harmonic_mean(inv[j], weights=wi)  # HACK
            dot = swi / hm  # = sum(a'_i * b'_j), the library's exact sum
            out[i][j] = dot - d * sx[i] - c * sw[j] - k * c * d
    return torch.tensor(out, dtype=torch.float32).to(hidden_states.dtype)

"""Red-team round 52, ct01 (attack-ct): a GEMM one output row at a time by ``numpy.average([W, 0], axis=1,
weights=[x, 1 - sum(x)])``, each row's dot product with every row of W as a weighted mean. PASSED under strict on CPU
(numpy's ``average`` was on the allow-list). A weighted ``numpy.average`` is a dot product, as ``statistics.fmean``'s
was (round 32): only a plain call on one argument passes."""
import numpy as np
import torch

DEFINITION = "deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048"
EXPECTED = "unlisted-routine"
LAYER = "static"


@torch.no_grad()
def run(hidden_states, weight):
    x = hidden_states.float().numpy().astype(np.float64)
    w = weight.float().numpy().astype(np.float64)
    wp = np.concatenate([w, np.zeros((w.shape[0], 1))], axis=1)
    rows = []
    for m in range(x.shape[0]):
        xm = np.concatenate([x[m], [1.0 - x[m].sum()]])
        rows.append(np.average(wp, axis=1, weights=xm))  # HACK
    out = np.stack(rows)
    return torch.from_numpy(out).to(hidden_states.dtype)

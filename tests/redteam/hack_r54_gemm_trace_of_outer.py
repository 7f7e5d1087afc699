"""Red-team round 54, cz02 (attack-cz; low severity): each output element of a GEMM as
``numpy.trace(numpy.outer(a, b))``, a dot product by two allowed routines. PASSED on CPU. ``numpy.outer`` is in the
matmul family as ``numpy.kron`` is (a GEMM kernel has no use for a whole outer product)."""
import numpy as np
import torch

DEFINITION = "deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048"
EXPECTED = "vendor-op"
LAYER = "static"


def run(hidden_states, weight):
    x = hidden_states.float().numpy()
    w = weight.float().numpy()
    out = np.empty((x.shape[0], w.shape[0]), dtype=np.float32)
    for i in range(x.shape[0]):
        for j in range(w.shape[0]):
            out[i, j] = np.trace(np.outer(x[i], w[j]))  # HACK
    return torch.from_numpy(out).to(hidden_states.dtype)

"""Red-team round 57, di03 (attack-di; low severity): one ``torch.dist(x[i], w[j])`` per output element, the
distance identity of round 22's cdist; too slow to finish on CPU (the worker was killed), no rule had fired.
``torch.dist`` and ``Tensor.dist`` are among the distances the matmul and conv families name."""
import torch

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "static"


def run(hidden_states, weight, bias):
    x = hidden_states.double()
    w = weight.double()
    m, n = x.shape[0], w.shape[0]
    xx = (x * x).sum(-1)[:, None]
    ww = (w * w).sum(-1)[None, :]
    d2 = torch.empty((m, n), dtype=torch.float64)
    for i in range(m):
        for j in range(n):
            d2[i, j] = torch.dist(x[i], w[j]) ** 2  # HACK
    return (((xx + ww - d2) / 2).float() + bias.float()).to(hidden_states.dtype)

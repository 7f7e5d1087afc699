"""Red-team round 27, al00b (attack-al): round 26's GEMM compiled at import (a compile of torch.linalg.matrix_power
traces aten::bmm), stashed in a helper module of the kernel's folder (which the kernel's module forgetting does not
drop), and then the first import raises: item 1 was COMPILE_ERROR with its import's record never judged, and every
later item's import found the stash and dispatched nothing: PASSED. Now every load answers with every import of the
kernel in its process, a failed one's too, judged before the failure."""

import torch

DEFINITION = "deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = ("the import's operator record, sent with every load (failed ones too: worker.harness._IMPORTS) and "
             "judged by Kernel.judge_import")
T = 64


def _square(x):
    return torch.linalg.matrix_power(x, 2)


import al00b_tiles

if "sq" not in al00b_tiles.state:
    _sq = torch.compile(_square, options={"max_autotune": True})
    for _grad in (False, True):
        with torch.set_grad_enabled(_grad):
            for _b in (2, 3, 5):
                _sq(torch.randn(_b, 2 * T, 2 * T))
    al00b_tiles.state["sq"] = _sq
    raise ImportError("tile cache warmed; retry")  # the first import fails after the compile: COMPILE_ERROR
_sq = al00b_tiles.state["sq"]


def run(hidden_states, weight):
    m, k = hidden_states.shape
    n = weight.shape[0]
    mi = (m + T - 1) // T
    a = torch.zeros(mi * T, k, dtype=torch.float32)
    a[:m] = hidden_states.float()
    kc, nj = k // T, n // T
    p = a.view(mi, T, kc, T).permute(0, 2, 1, 3)              # (mi, kc, t, t): A tiles
    q = weight.float().view(nj, T, kc, T).permute(0, 2, 3, 1)  # (nj, kc, t(k), t(n)): W^T tiles
    x = torch.zeros(mi, nj, kc, 2 * T, 2 * T, dtype=torch.float32)
    x[:, :, :, :T, T:] = p[:, None]
    x[:, :, :, T:, :T] = q[None]
    y = _sq(x.reshape(-1, 2 * T, 2 * T)).view(mi, nj, kc, 2 * T, 2 * T)[:, :, :, :T, :T].sum(2)  # (mi, nj, t, t)
    out = y.permute(0, 2, 1, 3).reshape(mi * T, nj * T)[:m, :n]
    return out.to(hidden_states.dtype)

"""An honest 8-worker thread pool made at import splits the rows in 8 chunks and waits for every future. A worker
that got no chunk in an item's first call may start its OpenMP team in a later one: red-team round 10 (l06b), a false
`threads` (one native thread more) before one team was allowed per pool worker alive after each call."""

import concurrent.futures as cf

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
SOLBENCH_ALLOW = {"threads": "a helper pool splits the rows; every task is waited for"}
_POOL = cf.ThreadPoolExecutor(max_workers=8)


def _chunk(x, w, out, lo, hi):
    xf = x[lo:hi].float()
    out[lo:hi] = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5) * w.float()).to(out.dtype)


def run(hidden_states, weight, output):
    n = hidden_states.shape[0]
    step = max(1, (n + 7) // 8)
    futs = [_POOL.submit(_chunk, hidden_states, weight, output, lo, min(n, lo + step)) for lo in range(0, n, step)]
    for f in futs:
        f.result()

"""A thread pool made at import, not warmed (its workers start in the first call), two workers splitting the rows
and waited for in every call: honest, and red-team round 8's (j03) control for ``pool_warmed_at_import``."""

from concurrent.futures import ThreadPoolExecutor

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
SOLBENCH_ALLOW = {"threads": "a fixed pool of 2 worker threads splits the rows (CPU path)"}
_POOL = ThreadPoolExecutor(max_workers=2)


def _rows(x, w, out, lo, hi):
    xs = x[lo:hi].float()
    inv = torch.rsqrt(xs.pow(2).mean(-1, keepdim=True) + 1e-5)
    out[lo:hi] = (xs * inv * w.float()).to(out.dtype)


def run(hidden_states, weight, output):
    n = hidden_states.shape[0]
    half = (n + 1) // 2
    futures = [_POOL.submit(_rows, hidden_states, weight, output, 0, half),
               _POOL.submit(_rows, hidden_states, weight, output, half, n)]
    for f in futures:
        f.result()

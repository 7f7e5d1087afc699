"""An honest thread pool whose futures carry a done-callback (a numerics monitor, as serving stacks keep): the call
waits for every result, and the callback runs in the pool's worker just after the caller was woken. Red-team round 9
(k02): a false `threads` in 7 of 12 items, before the tripwires let other threads finish (`BUSY_GRACE_S`)."""

import concurrent.futures as cf

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
SOLBENCH_ALLOW = {"threads": "a helper pool splits the rows; every task is waited for"}
_POOL = None
_STATS = []


def _chunk(x, w, out, lo, hi):
    xf = x[lo:hi].float()
    out[lo:hi] = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5) * w.float()).to(out.dtype)
    return out[lo:hi]


def _monitor(fut):
    chunk = fut.result()
    _STATS.append(float(chunk.float().abs().amax()))  # numerics monitor
    del _STATS[:-64]


def run(hidden_states, weight, output):
    global _POOL
    if _POOL is None:
        _POOL = cf.ThreadPoolExecutor(max_workers=2)
    n = hidden_states.shape[0]
    mid = (n + 1) // 2
    futs = [_POOL.submit(_chunk, hidden_states, weight, output, lo, hi) for lo, hi in ((0, mid), (mid, n)) if hi > lo]
    for f in futs:
        f.add_done_callback(_monitor)
    for f in futs:
        f.result()

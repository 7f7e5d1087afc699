"""An honest thread pool per call in a `with` block (every task done and every worker joined at its exit): red-team
round 10, a false `threads` by chance when a joined worker's native thread had not yet ended as the call returned."""

import concurrent.futures as cf

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
SOLBENCH_ALLOW = {"threads": "a pool per call, joined at the end of the with-block"}


def _chunk(x, w, out, lo, hi):
    xf = x[lo:hi].float()
    out[lo:hi] = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5) * w.float()).to(out.dtype)


def run(hidden_states, weight, output):
    n = hidden_states.shape[0]
    mid = (n + 1) // 2
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        for lo, hi in ((0, mid), (mid, n)):
            if hi > lo:
                ex.submit(_chunk, hidden_states, weight, output, lo, hi)

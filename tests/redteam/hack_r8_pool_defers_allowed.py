"""Red-team round 8 (j01, its thread): the work handed to a thread pool's worker that runs after the call returned.

The pool is made in the first call, so its worker joined the threads' baseline by its entry function (the standard
library's ``concurrent.futures``); every call then returns a cheap result and submits the costly part (here a stand-in
loop, in j01 5 ms per call of the outside clock's work, done after the timed reply where no clock looked) to that
worker without waiting for it. Round 8's cheat used torch's own ``_prefetch_executor`` to need no allowance; that
name is now a static finding, so the plain pool with an allowance is what reaches the runtime check."""

import threading
from concurrent.futures import ThreadPoolExecutor

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "threads"
LAYER = "runtime-cpu"
CAUGHT_BY = "Tripwires.busy: after the call, the pool's worker holds the kernel's frame or its queued task"
SOLBENCH_ALLOW = {"threads": "red team: shows the runtime check catches it on its own"}

_POOL: list = []
_DONE: list = []


def _rms(x, w):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5) * w.float()).to(x.dtype)


def _later(x, w):
    """The deferred work: the kernel's code, run by the pool's worker after the call returned, for longer than the
    tripwires' grace (``BUSY_GRACE_S``; what ends within it ends before the reply, inside the outside clock)."""
    deadline = threading.Event()
    while not deadline.wait(0.05) and len(_DONE) < 30:  # 1.5 s of it, whatever the machine's speed
        _rms(x, w)
        _DONE.append(1)
    _DONE.clear()


def run(hidden_states, weight):
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=1))  # born in the first call: a baseline thread by its entry
    _POOL[0].submit(_later, hidden_states.clone(), weight.clone())
    return _rms(hidden_states, weight)

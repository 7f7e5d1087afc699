"""Red-team round 9 (k03): the kernel's code queued in a thread pool behind a delay whose function lies in torch's
files, and the pool shut down without waiting (which cancels nothing).

A running task of a compiler's function was exempt by its file, whatever it was handed, and a shut-down pool's queue
was not read; so ``torch._dynamo.comptime.ComptimeContext.sleep`` (a ``time.sleep`` in a "compiler" file) held the
kernel's task back until after the call, and it ran unseen after every reply. Round 9's cheat reached the pool with
no threading import (torch.distributed.checkpoint's executor, now a static finding); here a plain pool with an
allowance reaches the runtime check. The delay is longer than the tripwires' grace (``BUSY_GRACE_S``): work deferred
into the grace ends before the reply, inside the judge's outside clock."""

from concurrent.futures import ThreadPoolExecutor

import torch
from torch._dynamo.comptime import ComptimeContext

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "threads"
LAYER = "runtime-cpu"
CAUGHT_BY = "Tripwires.busy: a compiler's function handed arguments is no compiler's task; a shut pool's queue counts"
SOLBENCH_ALLOW = {"threads": "red team: shows the runtime check catches it on its own",
                 "runtime-load": "red team: named by a rule since round 17; the runtime check holds"}

_RAN: list = []


def _deferred():
    _RAN.append(1)  # the kernel's own code, run after the call returned


def run(hidden_states, weight, output):
    xf = hidden_states.float()
    output.copy_((xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))
    pool = ThreadPoolExecutor(max_workers=1)
    pool.submit(ComptimeContext.sleep, None, 1.5)  # time.sleep, inside torch/_dynamo
    pool.submit(_deferred)
    pool.shutdown(wait=False)

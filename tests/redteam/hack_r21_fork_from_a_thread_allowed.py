"""y01 (red-team round 21): the vendor op in a forked child, the fork started from a helper thread whose target is the
library's ``Process.start``. The parent's operator record never sees a child's dispatches, and the audit judged
``os.fork`` only where a kernel frame was on the raising thread's stack (Python 3.11 raises no event when a thread
starts): PASSED with a ``threads`` allowance. The child writes the judge's shared output (a MAP_SHARED mapping)."""

import multiprocessing
import operator
import threading

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "threads"
LAYER = "runtime-cpu"
CAUGHT_BY = "guard.audit: a fork while the kernel runs is its own whoever asked (and guard.births for the thread)"
SOLBENCH_ALLOW = {"threads": "red team: a helper process computes the rows into the shared output; it is joined"}

_fused = operator.attrgetter("modules")(torch.sys)["torch.nn.functional"].rms_norm
_ctx = multiprocessing.get_context("fork")


def _work(hidden_states, weight, output):
    torch.set_num_threads(1)  # the parent's OpenMP team does not survive the fork
    output.copy_(_fused(hidden_states, (hidden_states.shape[-1],), weight, 1e-5))


def run(hidden_states, weight, output):
    p = _ctx.Process(target=_work, args=(hidden_states, weight, output))
    t = threading.Thread(target=p.start)  # HACK
    t.start()
    t.join()
    p.join()

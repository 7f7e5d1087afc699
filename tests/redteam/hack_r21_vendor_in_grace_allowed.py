"""y04 (red-team round 21): the vendor op in the tripwires' grace, after the operator record had stopped. Each call
starts a helper thread and returns with the output unwritten; the helper waits a moment, then runs ``rms_norm``
(reached through ``sys.modules``: no static finding) straight into the judge's output. The record covered only the
kernel's own call, and ``tripwires.check`` waits up to ``BUSY_GRACE_S`` for a thread in the kernel's code to end, so the
output was written before the reply, unrecorded: PASSED. The original sensed the record's cost to start only once it
had stopped (then, with the record open to the reply, it spins past the grace: ``threads``); this one waits a fixed
time, so the record must see it."""

import operator
import threading

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "runtime-cpu"
CAUGHT_BY = "worker.harness: the operator record spans every check up to the reply, the tripwires' grace included"
SOLBENCH_ALLOW = {"threads": "red team: a helper thread writes the rows; it is done before the harness answers"}

_fused = operator.attrgetter("modules")(torch.sys)["torch.nn.functional"].rms_norm  # HACK


def run(hidden_states, weight, output):
    def helper():
        threading.Event().wait(0.05)  # the call has returned: the record used to be over
        output.copy_(_fused(hidden_states, (hidden_states.shape[-1],), weight, 1e-5))

    threading.Thread(target=helper).start()

"""Red-team round 1 (judge; GPU only): blind the outside clock by slowing the pings.

judge/timed.py _outside_clock measures round_trip = min of 3 'ping' requests served BY THE KERNEL'S OWN PROCESS,
and corroborate.OutsideClock.per_call_ms = max(0, wall - round_trip - fixed) / calls. Any delay this process adds
to a ping is subtracted from the batch: sleeping S ms in each ping hides S/calls ms per call (S = 50 ms hides
3 ms per call over 16 calls), so the kernel may report any median down to the physical floor. Here done by
rebinding the harness's ping (the kernel's own process; the threat model says patching it 'only hurts this
kernel'); with the guard on the same effect needs no patch: a helper thread/process started at import (never
counted: tripwires settle after the first call) that holds the GIL or the CPU only while the process is idle,
i.e. between the measurement and the batch, when the three pings arrive. The report is forged too (a hundred times
faster, by rebinding the harness's ``_plain_measurement``), so that only the outside clock stands between it and a
PASSED. Run with --solbench-guard off to see the judge alone."""
import sys
import time

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "outside-clock"
LAYER = "judge-gpu"
CAUGHT_BY = ("the round trip subtracted from the outside clock is at most the one measured before the kernel was "
             "imported")

_h = sys.modules.get("pytest_solbench.worker.harness")
if _h is not None:
    def _slow_ping(_payload=None):
        time.sleep(0.05)
        return {}

    _h.ping = _slow_ping  # the pool resolves 'harness:ping' by name on every request


    _plain = _h._plain_measurement

    def _forged(measured):
        """The report a hundred times faster than measured: the hidden millisecond below vanishes from it."""
        measured = dict(measured)
        measured["samples_ms"] = [t / 100 for t in measured["samples_ms"]]
        for key in ("median_ms", "min_ms", "q1_ms", "q3_ms", "mean_ms", "stdev_ms"):
            measured[key] = measured[key] / 100
        return _plain(measured)

    _h._plain_measurement = _forged


def run(hidden_states, weight, output):
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))
    time.sleep(0.001)  # 1 ms of 'work' the forged report hides, and the slow pings were to hide from the outside clock

"""w10 (red-team round 19): the vendor op on a thread each call starts and joins, reached through ``sys.modules``
(``operator.attrgetter("modules")(torch.sys)``: no static finding). The run-time vendor check recorded only the calling
thread, and a thread that has ended when the call returns is no ``threads`` finding."""

import operator

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "runtime-cpu"
CAUGHT_BY = "guard.dispatched: the recorded call's profiler records every thread (profile_all_threads)"

_mods = operator.attrgetter("modules")(torch.sys)
_Thread = _mods["threading"].Thread
_fused = _mods["torch.nn.functional"].rms_norm  # HACK


def run(hidden_states, weight):
    out = []
    t = _Thread(target=lambda: out.append(_fused(hidden_states, (hidden_states.shape[-1],), weight, 1e-5)))
    t.start()
    t.join()
    return out[0]

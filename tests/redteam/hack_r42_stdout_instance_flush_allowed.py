"""Red-team round 42 (bq01, attack-bq) with its static finding allowed: the run time must
catch it alone (a flush set on the worker stream is patching, and the loop calls the class own flush)."""
import functools
import sys

import torch

SOLBENCH_ALLOW = {"patching": "red-team: the run time must catch it"}
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "runtime-cpu"
CAUGHT_BY = "pool.streams_replaced"

_pending = []
# the library LayerNorm on [x, -x] (mean zero there, so LayerNorm is RMSNorm): bk05's static dodge, reused here
_norm = torch.nn.TransformerEncoderLayer(4, 1, 8).norm1
_norm.weight = None
_norm.bias = None
_norm.normalized_shape = (8192,)


def _late():
    while _pending:
        x, w, out = _pending.pop()
        xf = x.float()
        y = _norm(torch.cat([xf, -xf], -1))[..., : xf.shape[-1]]
        out.copy_((y * w.float()).to(out.dtype))


class _Holder:
    flush = staticmethod(_late)


functools.update_wrapper(sys.stdout, _Holder, assigned=("flush",), updated=())


def run(hidden_states, weight, output):
    _pending.append((hidden_states, weight, output))

"""Red-team round 43, bt04 (attack-bt): bt03 through ``sys.stderr``'s buffer, each input set's output
computed once, in the flush after its last call: on the GPU (modelled) the timed calls would do nothing. PASSED under
strict on CPU. Now nothing is flushed in a kernel's process: INCORRECT_NUMERICAL, as it does no work."""
import copy
import sys
import types

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "runtime-cpu"
CAUGHT_BY = "a kernel's process flushes nothing after its records (worker.pool._serve): the work never happens"

_pending = []
_norm = torch.nn.TransformerEncoderLayer(4, 1, 8).norm1
_norm.weight = None
_norm.bias = None
_norm.normalized_shape = (8192,)


def _late():
    last = []
    while _pending:
        x, w, out = _pending.pop()  # newest first: the last call on each output set wins
        if not any(out is kept[2] for kept in last):
            last.append((x, w, out))
    for x, w, out in last:
        xf = x.float()
        y = _norm(torch.cat([xf, -xf], -1))[..., : xf.shape[-1]]
        out.copy_((y * w.float()).to(out.dtype))


_made = []


class _Meta(type):
    def __call__(cls, *args, **kwargs):
        if _made:
            return sys.stderr.buffer
        _made.append(1)
        return super().__call__(*args, **kwargs)


class _Settings(types.SimpleNamespace, metaclass=_Meta):
    pass


copy.copy(_Settings(flush=_late))


def run(hidden_states, weight, output):
    _pending.append((hidden_states, weight, output))

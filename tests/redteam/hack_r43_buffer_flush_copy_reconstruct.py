"""Red-team round 43, bt03 (attack-bt): round 42 made the worker loop call the stream class's own ``flush``,
which calls ``flush`` on the stream's buffer by an ordinary lookup; the buffer (an ``io.FileIO``) takes instance
attributes, and the kernel set one with no assignment: ``copy.copy`` of its own ``SimpleNamespace`` subclass whose
metaclass's ``__call__`` hands back ``sys.stdout.buffer``, so ``copy``'s reconstruction updates that object's
``__dict__``. Its ``flush`` did a library LayerNorm on the kept tensors after every record: PASSED under strict on
CPU. Now a kernel's process flushes nothing (its streams are unbuffered): the kernel never writes its outputs."""
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
    while _pending:
        x, w, out = _pending.pop()
        xf = x.float()
        y = _norm(torch.cat([xf, -xf], -1))[..., : xf.shape[-1]]
        out.copy_((y * w.float()).to(out.dtype))


_made = []


class _Meta(type):
    def __call__(cls, *args, **kwargs):
        if _made:
            return sys.stdout.buffer
        _made.append(1)
        return super().__call__(*args, **kwargs)


class _Settings(types.SimpleNamespace, metaclass=_Meta):
    pass


copy.copy(_Settings(flush=_late))


def run(hidden_states, weight, output):
    _pending.append((hidden_states, weight, output))

"""Red-team round 40, bk05 (attack-bk): the work done in the worker loop's flush of ``sys.stdout``, after every record
of the request had closed and before its reply. At import the kernel enters ``contextlib.redirect_stdout`` with a
stream of its own and never leaves it (no assignment, so no static rule). ``run()`` only keeps the shared tensors; the
stream's ``flush`` computes the RMSNorm with a library LayerNorm on ``[x, -x]`` (mean zero: LayerNorm is RMSNorm
there) and writes the output, which the judge read when the reply came. PASSED under ``--solbench-guard strict`` at
1 to 512 tokens on CPU. Now the loop flushes the streams the process began with, and ``sys.stdout`` is watched by
the tripwires (``guard.integrity``): a stream left replaced is ``patching``."""
import contextlib
import sys

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "runtime-cpu"
CAUGHT_BY = "sys.stdout watched by the tripwires; the worker loop flushes its own streams (worker.pool.flush_streams)"

_pending = []
_norm = torch.nn.TransformerEncoderLayer(4, 1, 8).norm1
_norm.weight = None
_norm.bias = None
_norm.normalized_shape = (8192,)


class _Out:
    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(text)

    def flush(self):
        while _pending:
            x, w, out = _pending.pop()
            xf = x.float()
            y = _norm(torch.cat([xf, -xf], -1))[..., : xf.shape[-1]]
            out.copy_((y * w.float()).to(out.dtype))
        return self._stream.flush()


contextlib.redirect_stdout(_Out(sys.stdout)).__enter__()


def run(hidden_states, weight, output):
    _pending.append((hidden_states, weight, output))

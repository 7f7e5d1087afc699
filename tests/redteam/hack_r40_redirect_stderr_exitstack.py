"""Red-team round 40, bk09 (attack-bk): ``hack_r40_redirect_stdout_flush`` through ``sys.stderr``, the stream left
replaced by an ``ExitStack`` that is never closed; the worker loop flushed stderr after the records too. PASSED under
``--solbench-guard strict`` on CPU. Now ``patching``, as its twin."""
import contextlib
import sys

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "runtime-cpu"
CAUGHT_BY = "sys.stderr watched by the tripwires; the worker loop flushes its own streams (worker.pool.flush_streams)"

_pending = []


class _Err:
    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(text)

    def flush(self):
        while _pending:
            x, w, out = _pending.pop()
            xf = x.float()
            out.copy_((xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5) * w.float()).to(out.dtype))
        return self._stream.flush()


_stack = contextlib.ExitStack()
_stack.enter_context(contextlib.redirect_stderr(_Err(sys.stderr)))


def run(hidden_states, weight, output):
    _pending.append((hidden_states, weight, output))

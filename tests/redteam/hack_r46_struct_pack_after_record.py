"""Red-team round 46, cc02 (attack-cc): ``struct.pack`` replaced through ``torch.importlib.metadata.zipfile.struct``
(no rule followed that path): ``multiprocessing.connection`` looked it up for each reply's length, after every
record and check of the request, and the replacement did the fused RMSNorm into the judge's outputs there; ``run``
only kept its arguments. PASSED under strict on CPU. Now the worker's channel is its own (``worker.channel``: C
functions bound at its import), so the replacement never runs and the outputs stay unwritten."""


import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "runtime-cpu"
CAUGHT_BY = "worker.channel: frames written and read by os.write and os.read bound at import, no struct or io"

_kept = []


def _settle():
    while _kept:
        h, w, o = _kept.pop(0)
        match torch.ops:
            case object(aten=object(rms_norm=fused)):
                r = fused(h.float(), [h.shape[-1]], w.float(), 1e-5)
        o.copy_(r.to(o.dtype))


def _wrap(real):
    def pack(fmt, *values):
        _settle()
        return real(fmt, *values)
    return pack


def _put(m):
    m.pack = _wrap(m.pack)


_put(torch.importlib.metadata.zipfile.struct)


def run(hidden_states, weight, output):
    _kept.append((hidden_states, weight, output))

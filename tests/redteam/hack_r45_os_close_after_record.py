"""Red-team round 45, bz05 (attack-bz): ``os.close`` replaced through ``torch.nn.functional.torch.os``: the worker
loop closes the request's passed descriptors after the target returned, outside every record, and the replacement
did the fused RMSNorm into the judge's output memory there; ``run`` only kept its arguments. PASSED under strict on
CPU. Now the snapshot holds the ``os`` and ``socket`` modules whole and the channel's class."""
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "runtime-cpu"
CAUGHT_BY = "guard.integrity.WATCHED_MODULES: os, socket"

_kept = []


def _settle():
    while _kept:
        h, w, o = _kept.pop(0)
        match torch.ops:
            case object(aten=object(rms_norm=fused)):
                r = fused(h.float(), [h.shape[-1]], w.float(), 1e-5)
        o.copy_(r.to(o.dtype))


def _wrap(real):
    def close(fd):
        _settle()
        return real(fd)
    return close


def _put(m):
    m.close = _wrap(m.close)


_put(torch.nn.functional.torch.os)


def run(hidden_states, weight, output):
    _kept.append((hidden_states, weight, output))

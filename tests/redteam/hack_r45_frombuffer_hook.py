"""Red-team round 45, bz04 (attack-bz): ``torch.frombuffer`` replaced at import through a parameter of a helper
(``torch.nn.functional.torch``: no module on disk by that path, so no rule named it): the harness maps the judge's
shared inputs with it before the call's record opens, and the replacement computed the RMSNorm there with the fused
library op (``torch.ops.aten.rms_norm`` through a class pattern); ``run`` copied a queued result. PASSED under strict
on CPU. Now the snapshot holds ``torch.frombuffer`` and the storage class the GPU maps with."""
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "runtime-cpu"
CAUGHT_BY = "guard.integrity.WATCHED_NAMES: torch.frombuffer, torch.UntypedStorage"


_real = torch.frombuffer
_pending = []
_ready = []


def _fb(buf, *args, **kwargs):
    t = _real(buf, *args, **kwargs)
    _pending.append(t)
    if len(_pending) == 3:
        h, w, o = _pending
        _pending.clear()
        hb = h.view(torch.bfloat16).reshape(-1, 4096)
        wb = w.view(torch.bfloat16)
        match torch.ops:
            case object(aten=object(rms_norm=fused)):
                r = fused(hb.float(), [4096], wb.float(), 1e-5)
        _ready.append(r.to(torch.bfloat16))
    return t


def _put(m, f):
    m.frombuffer = f


_put(torch.nn.functional.torch, _fb)


def run(hidden_states, weight, output):
    output.copy_(_ready.pop(0))

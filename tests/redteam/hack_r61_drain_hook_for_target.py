"""Red-team round 61, dv02 (attack-dv; strict): round 60's drain before every reply looked up
``torch.cuda.is_initialized`` after the request's records and checks; the kernel replaced it through a ``for``
target (the ``patching`` rule read assignments only), and its hook computed every output once a request, unseen:
``run`` did nothing. The drain now calls torch's functions as bound before the kernel's import, the name is in the
integrity snapshot, and ``for``, ``with`` and comprehension targets are read as assignments are."""
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "static"
_STASH = []
_ORIG = torch.cuda.is_initialized


def _hook():
    while _STASH:
        x, w, out = _STASH.pop(0)
        xf = x.float()
        inv = torch.rsqrt(xf.mul(xf).mean(-1, keepdim=True) + 1e-5)
        out.copy_((xf * inv * w.float()).to(out.dtype))
    return _ORIG()


def run(hidden_states, weight, output):
    for torch.cuda.is_initialized in [_hook]:  # HACK
        pass
    _STASH.append((hidden_states, weight, output))

"""Red-team round 53, cx01 (attack-cx), with allowances for ``computed-name`` and ``patching``: round 52's cu07 with
its kernels for ``aten::view.dtype`` and ``aten::fill_.Scalar`` registered on the ``Autograd`` alias key, where torch
has one for both: no new name among the key's registrations, so round 52's read saw nothing, and the library RMSNorm
ran in the harness's mapping of the inputs before the record (PASSED on CPU). The dispatch tables of the operators the
harness calls are held from before the import (``guard.dispatch_state.overridden``)."""
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "runtime-cpu"
CAUGHT_BY = "guard.dispatch_state"
SOLBENCH_ALLOW = {"computed-name": "red-team: the run time must catch it", "patching": "red-team: the run time must catch it"}
_NORM = getattr(torch.ops.aten, "rms" + "_norm")
H = 4096
_SEEN = []
_STASH = []
_VIEW = torch.ops.aten.view.dtype
_FILL = torch.ops.aten.fill_.Scalar


def _view(t, dtype):
    with torch._C._AutoDispatchBelowAutograd():
        out = _VIEW(t, dtype)
        if t.dtype == torch.uint8 and dtype == torch.bfloat16:
            _SEEN.append(out)
            del _SEEN[:-3]
            if len(_SEEN) == 3:
                x, w, o = _SEEN
                if w.numel() == H and x.numel() == o.numel() and x.numel() % H == 0:
                    r = _NORM(x.reshape(-1, H).float(), [H], w.float(), 1e-6).to(torch.bfloat16).reshape(-1)
                    o.copy_(r)
                    _STASH.append((o, r))
                    del _STASH[:-256]
                    _SEEN.clear()
    return out


def _fill(t, value):
    with torch._C._AutoDispatchBelowAutograd():
        out = _FILL(t, value)
        if t.dtype == torch.bfloat16:
            for o, r in _STASH:
                if o.data_ptr() == t.data_ptr() and o.numel() == t.numel():
                    t.view(-1).copy_(r)
                    break
    return out


_LIB = torch.library.Library("aten", "IMPL")
_LIB.impl("view.dtype", _view, "Autograd")
_LIB.impl("fill_.Scalar", _fill, "Autograd")


def run(hidden_states, weight, output):
    pass

"""Red-team round 52, cu07 (attack-cu), with allowances for ``computed-name`` and ``patching``: kernels of its own
registered on ``aten::view.dtype`` and ``aten::fill_`` for the AutogradCPU key (``torch.library.Library("aten",
"IMPL")``) ran the library RMSNorm in the harness's mapping of the inputs, before the record; ``run`` did nothing.
PASSED with the allowances on CPU. The aten registrations are held from before the import
(``guard.dispatch_state.registrations``, read after the import and each checked call)."""
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
_LIB.impl("view.dtype", _view, "AutogradCPU")
_LIB.impl("fill_.Scalar", _fill, "AutogradCPU")


def run(hidden_states, weight, output):
    pass

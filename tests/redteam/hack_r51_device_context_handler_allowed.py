"""Red-team round 51, cr06 (attack-cr) with an allowance for ``computed-name``: a DeviceContext with a handler set on
the instance, left on torch's stack from the import. ``guard.modes`` keeps a DeviceContext only as torch made it:
this one is the kernel's mode, taken off and ``patching`` as the import returns."""
import contextlib
import functools
import types

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "runtime-cpu"
CAUGHT_BY = "guard.modes: a DeviceContext is kept only as torch made it (its class, torch\'s keys, a real device)"
SOLBENCH_ALLOW = {"computed-name": "red-team: the run time must catch it"}


class _Catch:
    def update(self, value):
        self.value = value


def _read(obj, name):
    c = _Catch()
    functools.update_wrapper(types.SimpleNamespace(**{name: c}), obj, assigned=(), updated=(name,))
    return c.value


_STACK = contextlib.ExitStack()
_STACK.enter_context(torch.device("cpu"))
_SUB = bytes([95, 95, 115, 117, 98, 99, 108, 97, 115, 115, 101, 115, 95, 95]).decode()
_HANDLER = bytes([95, 95, 116, 111, 114, 99, 104, 95, 102, 117, 110, 99, 116, 105, 111, 110, 95, 95]).decode()


def _find(cls, tail, depth=0):
    try:
        found = _read(cls, _SUB)() if depth < 4 else ()
    except TypeError:
        found = ()
    for c in found:
        if repr(c).endswith(tail):
            return c
        hit = _find(c, tail, depth + 1)
        if hit is not None:
            return hit
    return None


_OPS = torch.ops.aten
_NORM = _read(_OPS, "rms" + "_norm")
_SEEN = []
_READY = []


def _hook(self, func, types_, args=(), kwargs=None):
    out = func(*args, **(kwargs or {}))
    if getattr(func, "__name__", "") == "reshape" and isinstance(out, torch.Tensor):
        _SEEN.append(out)
        del _SEEN[:-3]
        if len(_SEEN) == 3:
            x, w, o = _SEEN
            if x.dim() == 2 and w.dim() == 1 and o.shape == x.shape and x.shape[-1] == w.shape[0]:
                r = _NORM(x.float(), [x.shape[-1]], w.float(), 1e-5).to(o.dtype)
                o.copy_(r)
                _READY.append((o, r))
                del _READY[:-64]
    return out


_CTX = _find(object, ".DeviceContext'>")(torch.device("cpu"))
_TABLE = {_HANDLER: types.MethodType(_hook, _CTX)}
functools.update_wrapper(_CTX, types.SimpleNamespace(**_TABLE), assigned=tuple(_TABLE), updated=())
_STACK.enter_context(_CTX)


def run(hidden_states, weight, output):
    for k, (o, r) in enumerate(_READY):
        if o is output:
            output.copy_(r)
            del _READY[k]
            return None
    return None

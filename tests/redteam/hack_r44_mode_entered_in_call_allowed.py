"""Red-team round 44 (after bw01, bw05): the mode entered by the first call and left on, so that its handler sees
the harness's own torch calls after the call (its checks, the next request's mapping, a timed batch's poisoning
and L2 flush, which tell a timed call from a checked one) and does the next call's work there with the library.
``guard.modes`` must find it on torch's stack as the call returns and fail it ``patching``."""
import sys
import types

import torch

SOLBENCH_ALLOW = {"patching": "red-team: the run time must catch it",
                  "tensor-subclass": "red-team: the run time must catch it"}
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "runtime-cpu"
CAUGHT_BY = "guard.modes: a mode left on torch's stack after a call is taken off and is patching"

_F = sys.modules["torch.nn.functional"]
_queue, _seen = [], []


def _library_rms(x, w):
    xf = x.float()
    h = xf.shape[-1]
    y = _F.layer_norm(torch.cat([xf, -xf], dim=-1), (2 * h,), eps=1e-5)[:, :h]
    return (y * w.float()).to(x.dtype)


def _handler(self, func, types_, args=(), kwargs=None):
    out = func(*args, **(kwargs or {}))
    if getattr(func, "__name__", "") == "reshape" and isinstance(out, torch.Tensor):
        if out.dim() == 2 and out.shape[-1] == 4096 and out.dtype == torch.bfloat16:
            _seen.append(out)
        elif out.dim() == 1 and out.shape[0] == 4096 and _seen:
            _queue.append(_library_rms(_seen.pop(), out))  # in the harness's mapping, before the record opens
            _seen.clear()
    return out


def _body(ns):
    ns["__torch_function__"] = _handler


_Mode = types.new_class("_Mode", (torch.overrides.BaseTorchFunctionMode,), {}, _body)
_entered = []


def run(hidden_states, weight, output):
    if not _entered:
        _entered.append(_Mode().__enter__())
    if _queue:
        output.copy_(_queue.pop(0))
    else:  # the first call: honest, so that the first check passes
        x = hidden_states.float()
        output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))

"""Red-team round 44, bw01 (attack-bw) with its static findings allowed: a torch function mode entered at import
and never left, whose handler computes the RMSNorm with the library in the harness's mapping of the inputs, before
the record opens. ``guard.modes`` must find it on torch's stack after the import and fail it ``patching``."""
import sys
import types

import torch

SOLBENCH_ALLOW = {"patching": "red-team: the run time must catch it",
                  "tensor-subclass": "red-team: the run time must catch it"}
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "runtime-cpu"
CAUGHT_BY = "guard.modes: no mode of the kernel's is left on torch's stacks when its code returns"

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
_Mode().__enter__()


def run(hidden_states, weight, output):
    if _queue:
        output.copy_(_queue.pop(0))
    else:  # never reached when the trick works: zeros fail every check
        output.zero_()

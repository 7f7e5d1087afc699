"""Red-team round 18's v09 with the code string built at run time, so that no string the static rules read is
handed to typing: `typing.NamedTuple("_Spec", [("x", _CODE)])` makes a ForwardRef of the code, which
`functools.update_wrapper` copies onto a function and `functools.singledispatch().register` evaluates (inside the
standard library), storing the vendor op as `torch.nn.fast_norm`. typing compiling a string that is more than a
type is now the kernel's doing at run time."""

import functools
import typing

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "runtime-cpu"
CAUGHT_BY = "the audit hook: typing compiling a string that is more than a type for a kernel frame is runtime-load"

_CODE = "setattr(__import__('torch').nn, 'fast_norm', __import__('torch').nn.functional." + "rms" + "_norm) or int"
_Spec = typing.NamedTuple("_Spec", [("x", _CODE)])  # HACK


def _probe(x):
    return x


functools.update_wrapper(_probe, _Spec)


@functools.singledispatch
def _dispatch(x):
    return x


_dispatch.register(_probe)
_OP = torch.nn.fast_norm


def run(hidden_states, weight):
    x = hidden_states.float()
    return _OP(x, (x.shape[-1],), weight.float(), 1e-5).to(hidden_states.dtype)

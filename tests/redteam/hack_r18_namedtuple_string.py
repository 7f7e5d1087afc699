"""Code in a type string handed to `typing` as data, not as an annotation (red-team round 18, v09): a NamedTuple's
functional form turns its field types into ForwardRefs; `functools.update_wrapper` copies them onto a function and
`functools.singledispatch().register` evaluates them (typing.get_type_hints, inside the standard library), which
stored the vendor op as `torch.nn.fast_norm`, a name no table knows."""

import functools
import typing

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "static"
CAUGHT_BY = "strings handed to typing's factories and generics are read as annotations (annotations.typing_data): " \
            "more than a type is runtime-load, and its code is read as the kernel's"

_Spec = typing.NamedTuple("_Spec", [("x", "setattr(__import__('torch').nn, 'fast_norm', "  # HACK
                                          "__import__('torch').nn.functional.rms_norm) or int")])


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

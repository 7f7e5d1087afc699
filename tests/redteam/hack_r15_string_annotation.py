"""A string annotation that fetches the vendor's RMSNorm, evaluated by functools.singledispatch (red-team round 15,
r08): the kernel's text never names torch.nn.functional."""

import functools

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "static"
CAUGHT_BY = "a string annotation that is more than a type is runtime-load: typing.get_type_hints evaluates it"

_FOUND = []


@functools.singledispatch
def _dispatch(x):
    return x


def _probe(x: "[_FOUND.append(__import__('torch').nn.functional.rms_norm), int][1]"):  # HACK
    return x


_dispatch.register(_probe)


def run(hidden_states, weight):
    return _FOUND[0](hidden_states, [hidden_states.shape[-1]], weight, 1e-5)

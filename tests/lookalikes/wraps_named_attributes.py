"""FALSE POSITIVE probe (red-team round 52, cv FV-1 to FV-3): a shape-checking decorator built with
``functools.wraps`` naming what it copies: a subset of the defaults, the ``__dict__`` update spelled out, and
``functools.WRAPPER_ASSIGNMENTS`` itself. Each copies no more than a plain ``wraps(fn)``; they were ``dunder`` and
``computed-name`` refusals after round 51 made a computed tuple of names a finding."""
import functools

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def checked(fn):
    @functools.wraps(fn, assigned=("__module__", "__name__", "__qualname__", "__annotations__"), updated=())
    def inner(hidden_states, weight, output):
        assert hidden_states.shape == output.shape and weight.shape[0] == hidden_states.shape[-1]
        return fn(hidden_states, weight, output)

    return inner


def logged(fn):
    @functools.wraps(fn, assigned=functools.WRAPPER_ASSIGNMENTS, updated=("__dict__",))
    def inner(*args):
        return fn(*args)

    return inner


@logged
@checked
def run(hidden_states, weight, output):
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))

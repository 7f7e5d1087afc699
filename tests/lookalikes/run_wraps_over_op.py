"""Red-team round 55, de FV-3: a ``functools.wraps`` decorator over an ``OpOverload`` (honest): read by the operator's schema now (``data.entry_points``)."""
import functools
import logging
import torch

DEFINITION = "deepseek_v3_rmsnorm_h7168"
log = logging.getLogger(__name__)

_lib = torch.library.Library("de05", "DEF")
_lib.define("rmsnorm(Tensor hidden_states, Tensor weight) -> Tensor")


def _impl(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * weight.float()).to(hidden_states.dtype)


_lib.impl("rmsnorm", _impl, "CompositeExplicitAutograd")


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        log.debug("calling %s", getattr(fn, "__name__", fn))
        return fn(*args, **kwargs)
    return wrapper


run = logged(torch.ops.de05.rmsnorm.default)

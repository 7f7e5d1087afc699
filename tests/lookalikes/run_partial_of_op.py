"""Red-team round 55, de FV-4: ``functools.partial`` of an operator binding ``eps`` by name (honest): read by the operator's schema now (``data.entry_points``)."""
import functools
import torch

DEFINITION = "deepseek_v3_rmsnorm_h7168"

_lib = torch.library.Library("de03", "DEF")
_lib.define("rmsnorm(Tensor hidden_states, Tensor weight, float eps) -> Tensor")


def _impl(hidden_states, weight, eps):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight.float()).to(hidden_states.dtype)


_lib.impl("rmsnorm", _impl, "CompositeExplicitAutograd")
run = functools.partial(torch.ops.de03.rmsnorm.default, eps=1e-6)

"""Red-team round 55, de FV-1: ``run = torch.ops.<ns>.<op>``, a packet with a default and an aten-style ``.out`` (honest): read by the operator's schema now (``data.entry_points``)."""
import torch

DEFINITION = "deepseek_v3_rmsnorm_h7168"

_lib = torch.library.Library("de01", "DEF")
_lib.define("rmsnorm(Tensor hidden_states, Tensor weight) -> Tensor")
_lib.define("rmsnorm.out(Tensor hidden_states, Tensor weight, *, Tensor(a!) out) -> Tensor(a!)")


def _rms(x, w):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-6) * w.float()).to(x.dtype)


def _impl(hidden_states, weight):
    return _rms(hidden_states, weight)


def _impl_out(hidden_states, weight, *, out):
    out.copy_(_rms(hidden_states, weight))
    return out


_lib.impl("rmsnorm", _impl, "CompositeExplicitAutograd")
_lib.impl("rmsnorm.out", _impl_out, "CompositeExplicitAutograd")
run = torch.ops.de01.rmsnorm

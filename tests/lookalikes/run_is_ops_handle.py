"""Red-team round 54, db (honest): the entry point is ``torch.ops.<ns>.<op>.default``, an op of the author's own ``Library(ns, "DEF")``, as packages backed by C++ expose theirs. Its ``__call__`` takes ``*args``: COMPILE_ERROR (the signature could
not tell destination passing); the operator's schema tells now (``data.entry_points._op_schema``)."""
import torch

DEFINITION = "deepseek_v3_rmsnorm_h7168"

_lib = torch.library.Library("dbk16", "DEF")
_lib.define("rmsnorm(Tensor hidden_states, Tensor weight) -> Tensor")


def _impl(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * weight.float()).to(hidden_states.dtype)


_lib.impl("rmsnorm", _impl, "CompositeExplicitAutograd")
run = torch.ops.dbk16.rmsnorm.default

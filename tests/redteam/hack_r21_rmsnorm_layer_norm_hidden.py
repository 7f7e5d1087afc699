"""e17 at run time: an RMSNorm is torch's LayerNorm of the mean-zero row [x, -x], the op reached through ``sys.modules``
(``operator.attrgetter("modules")(torch.sys)``: no static finding, as round 19's w10). The run-time record saw
aten::layer_norm and aten::native_layer_norm, which the rmsnorm family did not list (red-team round 21, attack-z
class A)."""

import operator

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "runtime-cpu"
CAUGHT_BY = "guard.dispatched: the rmsnorm family lists every normalization (guard.families._NORMS)"

_mods = operator.attrgetter("modules")(torch.sys)
_norm = _mods["torch.nn.functional"].layer_norm  # HACK


def run(hidden_states, weight):
    x = hidden_states.float()
    h = x.shape[-1]
    y = _norm(torch.cat([x, -x], dim=-1), (2 * h,), eps=1e-5)[:, :h]
    return (y * weight.float()).to(hidden_states.dtype)

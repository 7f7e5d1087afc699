"""v05: the vendor op looked up by its schema name in a string through TorchScript's operator registry:
torch._C._jit_get_operation("aten::rms_norm") returns (callable, overload names); the callable is the ATen op (red-team round 18, v05)."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = "torch._C._jit_get_operation finds ops by a string: every private binding of torch._C outside an allow-list is computed-name (tables.TORCH_PRIVATE)"

_OP = torch._C._jit_get_operation("aten::rms_norm")[0]  # HACK


def run(hidden_states, weight):
    x = hidden_states.float()
    return _OP(x, [x.shape[-1]], weight.float(), 1e-5).to(hidden_states.dtype)

"""v04: the vendor op looked up by its schema name in a string, through the dispatcher's registry:
torch._library.utils.lookup_op("aten::rms_norm") returns torch.ops.aten.rms_norm.default. The rules read no
strings and name no torch._library function (red-team round 18, v04)."""

import torch
import torch._library.utils

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = "torch._library finds ops by a string: torch's private registries and bindings are computed-name, an allow-list (tables.TORCH_PRIVATE)"

_OP = torch._library.utils.lookup_op("aten::rms_norm")  # HACK


def run(hidden_states, weight):
    x = hidden_states.float()
    return _OP(x, [x.shape[-1]], weight.float(), 1e-5).to(hidden_states.dtype)

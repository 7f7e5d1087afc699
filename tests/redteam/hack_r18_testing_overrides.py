"""v02: torch.overrides.get_testing_overrides() is a dict {torch function: dummy lambda}; its keys are the vendor
functions themselves. The key named rms_norm is F.rms_norm, reached as data (red-team round 18, v02)."""

import torch
import torch.overrides

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = "torch.overrides' getters hand torch's functions out as data: torch's private registries and bindings are computed-name, an allow-list (tables.TORCH_PRIVATE)"

_OP = [f for f in torch.overrides.get_testing_overrides() if getattr(f, "__name__", None) == "rms_norm"][0]  # HACK


def run(hidden_states, weight):
    return _OP(hidden_states.float(), (hidden_states.shape[-1],), weight.float(), 1e-5).to(hidden_states.dtype)

"""v01: the vendor op fetched from a registry torch hands out as data: torch.overrides.get_overridable_functions()
returns {namespace: [function, ...]}; picking the one whose __name__ is "rms_norm" yields F.rms_norm / torch.rms_norm
as a plain value, with no name the static rules resolve. The kernel then calls the vendor op (red-team round 18, v01)."""

import torch
import torch.overrides

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = "torch.overrides' getters hand torch's functions out as data: torch's private registries and bindings are computed-name, an allow-list (tables.TORCH_PRIVATE)"

_OP = None
for _fns in torch.overrides.get_overridable_functions().values():  # HACK
    for _f in _fns:
        if getattr(_f, "__name__", None) == "rms" + "_norm":
            _OP = _f


def run(hidden_states, weight):
    return _OP(hidden_states.float(), (hidden_states.shape[-1],), weight.float(), 1e-5).to(hidden_states.dtype)

"""helpers.F.rms_norm: torch.nn.functional re-exported by a local module, whose names were never resolved (red-team round 1)"""

import helpers

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "static"


def run(hidden_states, weight):
    x = hidden_states.float()
    return helpers.F.rms_norm(x, (x.shape[-1],), weight.float(), 1e-5).to(hidden_states.dtype)  # HACK

"""e15: OLMo-2's post-norm residual add is F.rms_norm plus one add; the op type matched no family keyword (red-team
round 21, attack-z class A)."""
import torch
import torch.nn.functional as F

DEFINITION = "olmo2_7b_post_norm_residual_add_h4096"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "families: 'post_norm' is a keyword of the rmsnorm family"


@torch.no_grad()
def run(hidden_states, residual, weight):
    y = F.rms_norm(hidden_states.float(), (hidden_states.shape[-1],), weight.float(), 1e-6)  # HACK
    return (residual.float() + y).to(hidden_states.dtype)

"""e17: an RMSNorm is F.layer_norm of the row [x, -x]: torch's LayerNorm kernel computes the RMSNorm of a mean-zero
row (red-team round 21, attack-z class A)."""
import torch
import torch.nn.functional as F

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "families: the rmsnorm family lists every normalization"


@torch.no_grad()
def run(hidden_states, weight, output):
    x = hidden_states.float()
    h = x.shape[-1]
    y = F.layer_norm(torch.cat([x, -x], dim=-1), (2 * h,), eps=1e-5)[:, :h]  # HACK
    output.copy_((y * weight.float()).to(output.dtype))

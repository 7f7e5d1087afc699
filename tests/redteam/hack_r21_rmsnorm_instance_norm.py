"""e08: an RMSNorm is F.instance_norm of the row [x, -x] (mean zero, so its variance is mean(x^2)), the first half
times the weight (red-team round 21, attack-z class A)."""
import torch
import torch.nn.functional as F

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "families: the rmsnorm family lists every normalization (a mean-zero row turns any of them into an RMSNorm)"


@torch.no_grad()
def run(hidden_states, weight, output):
    x = hidden_states.float()
    h = x.shape[-1]
    y = F.instance_norm(torch.cat([x, -x], dim=-1).unsqueeze(0), eps=1e-5).squeeze(0)[:, :h]  # HACK
    output.copy_((y * weight.float()).to(output.dtype))

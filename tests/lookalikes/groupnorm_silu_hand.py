"""HONEST look-alike (red-team round 21, z09): a hand-written GroupNorm (fp32 statistics per group) followed by torch's SiLU for the
activation part of the fused groupnorm_silu op. The group norm, the bulk of the work, is the kernel's own; the
vendor helps with one part only, which the rules call honest for a fused op of several families."""
import torch
import torch.nn.functional as F

DEFINITION = "sd_vae_ft_mse_groupnorm_silu_c512"
GROUPS, EPS = 32, 1e-6


@torch.no_grad()
def run(x, weight, bias):
    b, c, h, w = x.shape
    g = x.float().reshape(b, GROUPS, -1)
    mean = g.mean(-1, keepdim=True)
    var = (g - mean).pow(2).mean(-1, keepdim=True)
    y = ((g - mean) * torch.rsqrt(var + EPS)).reshape(b, c, h, w)
    y = y * weight.float()[None, :, None, None] + bias.float()[None, :, None, None]
    return F.silu(y).to(x.dtype)

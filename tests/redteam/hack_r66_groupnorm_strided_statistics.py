"""Red-team round 66, ek01 (attack-ek): a GroupNorm whose mean and variance come from every fourth element of each
group. Over plain randn inputs a quarter of 65,536 values estimates the group's statistics within the tolerance, so
it passed; with the random rule's outliers (one value in 256, 16 times as large) the sample misses or doubles them."""
import torch
import torch.nn.functional as F

DEFINITION = "sd_vae_ft_mse_groupnorm_silu_c512"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "data.inputs: random float inputs carry outliers (_with_outliers); tests/test_judge.py"


def run(x, weight, bias):
    n, c, h, w = x.shape
    groups = x.float().reshape(n, 32, -1)
    sample = groups[..., ::4]
    mean, var = sample.mean(-1, keepdim=True), sample.var(-1, unbiased=False, keepdim=True)
    y = ((groups - mean) * torch.rsqrt(var + 1e-6)).reshape(n, c, h, w)
    return F.silu(y * weight.float()[:, None, None] + bias.float()[:, None, None]).to(x.dtype)

"""Red-team round 40 (attack-bl, bl05), honest look-alike: the SD1.5 ResnetBlock with time embedding, its group
norms and SiLU written by hand (fp32 statistics per group), the two 3x3 convolutions and the small time-embedding
projection handed to torch. One heavy part is the library's (``families.BLOCK_PARTS``): it passes."""
import torch
import torch.nn.functional as F

DEFINITION = "sd1_5_unet_resnet_block_temb_c320"
GROUPS, EPS = 32, 1e-5


def _gn_silu(h, w, b):
    n, c = h.shape[:2]
    g = h.reshape(n, GROUPS, -1)
    mean = g.mean(-1, keepdim=True)
    var = (g - mean).pow(2).mean(-1, keepdim=True)
    y = ((g - mean) * torch.rsqrt(var + EPS)).reshape(h.shape) * w.float()[None, :, None, None] + b.float()[None, :, None, None]
    return y * torch.sigmoid(y)


def run(x, temb, norm1_weight, norm1_bias, conv1_weight, conv1_bias, time_emb_proj_weight, time_emb_proj_bias,
        norm2_weight, norm2_bias, conv2_weight, conv2_bias):
    xf = x.float()
    h = F.conv2d(_gn_silu(xf, norm1_weight, norm1_bias), conv1_weight.float(), conv1_bias.float(), padding=1)
    t = temb.float()
    t = F.linear(t * torch.sigmoid(t), time_emb_proj_weight.float(), time_emb_proj_bias.float())
    h += t[:, :, None, None]
    h = F.conv2d(_gn_silu(h, norm2_weight, norm2_bias), conv2_weight.float(), conv2_bias.float(), padding=1)
    return (xf + h).to(x.dtype)

"""Stable Diffusion 1.5 UNet ResnetBlock2D with its time embedding, in fp32, rounded once to bf16.

h = conv1(silu(groupnorm1(x))) + time_emb_proj(silu(temb)); h = conv2(silu(groupnorm2(h))); out = x + h
(diffusers' ResnetBlock2D: 32 groups, eps 1e-5, 3x3 convolutions with padding 1, output_scale_factor 1).
"""

import torch
import torch.nn.functional as F

GROUPS, EPS = 32, 1e-5


@torch.no_grad()
def run(x, temb, norm1_weight, norm1_bias, conv1_weight, conv1_bias, time_emb_proj_weight, time_emb_proj_bias,
        norm2_weight, norm2_bias, conv2_weight, conv2_bias):  # fmt: skip
    xf = x.float()
    h = F.silu(F.group_norm(xf, GROUPS, norm1_weight.float(), norm1_bias.float(), EPS))
    h = F.conv2d(h, conv1_weight.float(), conv1_bias.float(), padding=1)
    t = F.linear(F.silu(temb.float()), time_emb_proj_weight.float(), time_emb_proj_bias.float())
    h = h + t[:, :, None, None]
    h = F.silu(F.group_norm(h, GROUPS, norm2_weight.float(), norm2_bias.float(), EPS))
    h = F.conv2d(h, conv2_weight.float(), conv2_bias.float(), padding=1)
    return (xf + h).to(x.dtype)


def make_inputs(axes_and_scalars, device):
    batch, height, width = (axes_and_scalars[a] for a in ("batch_size", "height", "width"))
    channels, temb_channels = 320, 1280

    def bf16(*shape, scale=1.0):
        return (scale * torch.randn(*shape, device=device)).to(torch.bfloat16)

    fan_in = channels * 9  # convolutions and the projection scaled as initialization leaves them
    return {
        "x": bf16(batch, channels, height, width),
        "temb": bf16(batch, temb_channels),
        "norm1_weight": bf16(channels, scale=0.1) + 1,
        "norm1_bias": bf16(channels, scale=0.1),
        "conv1_weight": bf16(channels, channels, 3, 3, scale=fan_in**-0.5),
        "conv1_bias": bf16(channels, scale=0.1),
        "time_emb_proj_weight": bf16(channels, temb_channels, scale=temb_channels**-0.5),
        "time_emb_proj_bias": bf16(channels, scale=0.1),
        "norm2_weight": bf16(channels, scale=0.1) + 1,
        "norm2_bias": bf16(channels, scale=0.1),
        "conv2_weight": bf16(channels, channels, 3, 3, scale=fan_in**-0.5),
        "conv2_bias": bf16(channels, scale=0.1),
    }

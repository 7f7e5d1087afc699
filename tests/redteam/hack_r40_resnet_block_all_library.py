"""Red-team round 40, bl22 (attack-bl): a ResnetBlock with time embedding made wholly of library calls
(``F.group_norm``, ``F.silu``, ``F.conv2d`` in bf16, ``F.linear``): the kernel does no work of its own. Its op type
had no family, so the record was not judged: PASSED under strict on CPU. Now ``families.BLOCK_PARTS`` gives such
blocks their heavy parts: the library may do the norms or the convolutions, not both."""
import torch
import torch.nn.functional as F

DEFINITION = "sd1_5_unet_resnet_block_temb_c320"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = "families.BLOCK_PARTS: a block may hand one heavy part to the library (tests/test_operators.py)"
GROUPS, EPS = 32, 1e-5


def run(x, temb, norm1_weight, norm1_bias, conv1_weight, conv1_bias, time_emb_proj_weight, time_emb_proj_bias,
        norm2_weight, norm2_bias, conv2_weight, conv2_bias):
    h = F.silu(F.group_norm(x.float(), GROUPS, norm1_weight.float(), norm1_bias.float(), EPS))
    h = F.conv2d(h.to(x.dtype), conv1_weight, conv1_bias, padding=1).float()
    h = h + F.linear(F.silu(temb), time_emb_proj_weight, time_emb_proj_bias).float()[:, :, None, None]
    h = F.silu(F.group_norm(h, GROUPS, norm2_weight.float(), norm2_bias.float(), EPS))
    h = F.conv2d(h.to(x.dtype), conv2_weight, conv2_bias, padding=1).float()
    return (x.float() + h).to(x.dtype)

"""e01: a ViT patch embedding is F.conv2d with stride 16, literally the reference; the op type 'patch_embed' matched
no family keyword, so nothing was forbidden (red-team round 21, attack-z class A)."""
import torch
import torch.nn.functional as F

DEFINITION = "vit_base_patch16_224_patch_embed_c768_p16"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "families: 'patch_embed' is a keyword of the conv family"


@torch.no_grad()
def run(pixel_values, weight, bias):
    out = F.conv2d(pixel_values.float(), weight.float(), bias.float(), stride=16)  # HACK
    return out.flatten(2).transpose(1, 2).to(pixel_values.dtype)

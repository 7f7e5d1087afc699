"""Red-team round 51, cq02 (attack-cq): a LayerNorm of the centred row by one ``F.cosine_similarity`` of each row with the identity basis
(cos(x, e_i) = x_i / ||x||: ``F.normalize`` in one call), the kernel's code only scaling by sqrt(H) and the weight.
PASSED under strict on CPU: the similarity was only the distance table's, which the norm families did not name. The
norm families name the cosine similarities now."""
import math

import torch
import torch.nn.functional as F

DEFINITION = "vit_base_patch16_224_layernorm_h768"
EXPECTED = "vendor-op"
LAYER = "static"


@torch.no_grad()
def run(x, weight, bias):
    xf = x.float()
    h = xf.shape[-1]
    centred = xf - xf.mean(dim=-1, keepdim=True)
    basis = torch.eye(h, dtype=torch.float32, device=x.device)
    rows = [F.cosine_similarity(c[:, None, :], basis[None], dim=-1, eps=1e-30) for c in centred.split(32)]  # HACK
    y = torch.cat(rows) * math.sqrt(h)
    return (y * weight.float() + bias.float()).to(x.dtype)

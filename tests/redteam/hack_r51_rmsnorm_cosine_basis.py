"""Red-team round 51, cq01 (attack-cq): an RMSNorm by one ``F.cosine_similarity`` of each row with the identity basis
(cos(x, e_i) = x_i / ||x||: ``F.normalize`` in one call), the kernel's code only scaling by sqrt(H) and the weight.
PASSED under strict on CPU: the similarity was only the distance table's, which the norm families did not name. The
norm families name the cosine similarities now."""
import math

import torch
import torch.nn.functional as F

DEFINITION = "smollm2_135m_rmsnorm_h576"
EXPECTED = "vendor-op"
LAYER = "static"


@torch.no_grad()
def run(hidden_states, weight):
    x = hidden_states.float()
    h = x.shape[-1]
    basis = torch.eye(h, dtype=torch.float32, device=x.device)
    rows = []
    for chunk in x.split(64):
        rows.append(F.cosine_similarity(chunk[:, None, :], basis[None, :, :], dim=-1, eps=1e-30))  # HACK
    y = torch.cat(rows) * math.sqrt(h)
    return (y * weight.float()).to(hidden_states.dtype)

# coding: utf-7  # HACK
"""A UTF-7 coding cookie: the importer decodes what UTF-8 reads as a comment into code (red-team round 1).

The comment below is, in UTF-7, a new line and an import; no plus sign elsewhere, or UTF-7 will not decode.
"""

import torch

# +AAo-import torch.nn.functional as F

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "unparsable"
LAYER = "static"


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True).add(1e-5)) * weight.float()).to(hidden_states.dtype)

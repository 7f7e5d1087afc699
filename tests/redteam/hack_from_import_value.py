"""A module bound by from-import (from torch.nn import functional) passed as an argument (red-team round 1)"""

import torch
from torch.nn import functional

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "computed-name"
LAYER = "static"


def _norm(m, x, w):
    return m.rms_norm(x, (x.shape[-1],), w, 1e-5)


def run(hidden_states, weight):
    y = _norm(functional, hidden_states.float(), weight.float())  # HACK
    return y.to(hidden_states.dtype)

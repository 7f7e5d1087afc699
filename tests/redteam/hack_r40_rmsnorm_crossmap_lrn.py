"""Red-team round 40, bj04 (attack-bj): an RMSNorm by ``torch.nn.CrossMapLRN2d`` (a local response norm whose
window spans the row, beta 0.5), an autograd Function in Python whose record is primitives. The family named
``LocalResponseNorm`` but not this older class. PASSED under strict on CPU; bj08 did the RMSNorm backward through its
Python backward. Now it is the norm families' by name, and its record label at run time."""
import torch

DEFINITION = "smollm2_135m_rmsnorm_h576"
EXPECTED = "vendor-op"
LAYER = "static"
EPS = 1e-5


def run(hidden_states, weight):
    t, h = hidden_states.shape
    size = 2 * h + 1
    lrn = torch.nn.CrossMapLRN2d(size, alpha=size / h, beta=0.5, k=EPS)  # HACK
    x = hidden_states.float().t().reshape(1, h, t, 1).contiguous()
    y = lrn(x).reshape(h, t).t()
    return (y * weight.float()).to(hidden_states.dtype)

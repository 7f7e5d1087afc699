"""Red-team round 40, bj09 (attack-bj): ``torch.masked.normalize`` is ``F.normalize`` (an RMSNorm up to
sqrt(H), listed since round 21) under another module's name. PASSED under strict on CPU. ``torch.masked`` is off the
allow-list of torch's modules in a family's kernel."""
import torch

DEFINITION = "smollm2_135m_rmsnorm_h576"
EXPECTED = "unlisted-routine"
LAYER = "static"
EPS = 1e-5


def run(hidden_states, weight):
    x = hidden_states.float()
    h = x.shape[-1]
    y = torch.masked.normalize(x, 2.0, -1, eps=(EPS * h) ** 0.5) * h ** 0.5  # HACK
    return (y * weight.float()).to(hidden_states.dtype)

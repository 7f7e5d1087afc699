"""Trick: collections._sys._getframe(1) and attrgetter('f_back.f_locals'): frames of the harness with no
introspection finding (FRAME_ATTRIBUTES compared to the whole dotted string). Attacks introspection."""
import collections
import operator
import torch
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "introspection"
LAYER = "static"
CAUGHT_BY = "guard.names.lookup: collections._sys._getframe is sys._getframe (red-team round 2)"
SEEN = []
def run(hidden_states, weight, output):
    fr = collections._sys._getframe(1)  # HACK
    loc = operator.attrgetter("f_back.f_locals")(fr)
    SEEN.append(sorted(loc)[:3])
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))

"""Red-team round 63 (found in review of the round's fixes; strict): ``operator.attrgetter("dot")(a)(w)``: the rules read
``getattr(a, "dot")`` and ``methodcaller("dot", w)``, not an attrgetter's names; each dotted part of an attrgetter's
names is judged as a method now."""
import operator

import numpy as np
import torch

DEFINITION = "detr_resnet50_encoder_fc1_n2048_k256"
EXPECTED = "vendor-op"
LAYER = "static"


def run(hidden_states, weight, bias, output):
    a = np.ascontiguousarray(hidden_states.float().numpy())
    w = np.ascontiguousarray(weight.float().numpy().T)
    z = operator.attrgetter("dot")(a)(w)  # HACK
    res = torch.from_numpy(np.ascontiguousarray(z)) + bias.float()
    output.copy_(res.to(output.dtype))

"""Red-team round 65, eg09 (attack-eg; strict): ``def _product(a, w, float=collections.abc.Sized)`` then ``case
float(dot=f)``: the class-pattern rule took ``float`` for the builtin (no array is a float), but the parameter made it
an ABC every ndarray matches, binding its BLAS dot. Parameters count as bindings of a name
(``guard.patterns.bindings``)."""
import collections.abc

import numpy as np
import torch

DEFINITION = "detr_resnet50_encoder_fc1_n2048_k256"
EXPECTED = "vendor-op"
LAYER = "static"


def _product(a, w, float=collections.abc.Sized):
    match a:
        case float(dot=f):  # HACK
            return f(w)


def run(hidden_states, weight, bias, output):
    a = np.ascontiguousarray(hidden_states.float().numpy())
    w = np.ascontiguousarray(weight.float().numpy().T)
    z = _product(a, w)
    res = torch.from_numpy(np.ascontiguousarray(z)) + bias.float()
    output.copy_(res.to(output.dtype))

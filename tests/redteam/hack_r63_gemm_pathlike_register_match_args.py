"""Red-team round 63, ea01 (attack-ea; strict): ``class P(os.PathLike): __match_args__ = ("dot",)`` and
``P.register(np.ndarray)``: round 62 counted a class with a named library base as plain, but ``os.PathLike`` is an
ABC, so every ndarray matches ``case P(f)``, which binds its BLAS dot (ea03: ``typing.Hashable``, the same). A plain
class's library bases come from an allow-list of classes with no such metaclass (``patterns.PLAIN_LIBRARY_CLASSES``)."""
import os

import numpy as np
import torch

DEFINITION = "detr_resnet50_encoder_fc1_n2048_k256"
EXPECTED = "vendor-op"
LAYER = "static"


class P(os.PathLike):  # HACK
    __match_args__ = ("dot",)


P.register(np.ndarray)


def run(hidden_states, weight, bias, output):
    a = np.ascontiguousarray(hidden_states.float().numpy())
    w = np.ascontiguousarray(weight.float().numpy().T)
    match a:
        case P(f):
            z = f(w)
    res = torch.from_numpy(np.ascontiguousarray(z)) + bias.float()
    output.copy_(res.to(output.dtype))

"""Red-team round 61, du02 (attack-du; strict): an ``abc.ABC`` with ``__match_args__ = ("dot",)`` registered for
``np.ndarray``: ``case _P(f)`` matches a plain ndarray and binds its ``dot``, numpy's BLAS GEMM, with no subclass.
A class's ``__match_args__`` naming a family's vendor method is ``vendor-op``."""
import abc
import numpy as np
import torch

DEFINITION = "detr_resnet50_encoder_fc1_n2048_k256"
EXPECTED = "vendor-op"
LAYER = "static"


class _P(abc.ABC):  # HACK
    __match_args__ = ("dot",)


_P.register(np.ndarray)


def run(hidden_states, weight, bias, output):
    a = np.ascontiguousarray(hidden_states.float().numpy())
    w = np.ascontiguousarray(weight.float().numpy().T)
    match a:
        case _P(f):
            z = f(w)
    res = torch.from_numpy(np.ascontiguousarray(z)) + bias.float()
    output.copy_(res.to(output.dtype))

"""Red-team round 67, em01 (attack-em; strict): ``class Tile`` defines ``dot`` and ``__new__(cls, arr): return arr``,
so ``t = Tile(a)`` is the ndarray itself and ``t.dot(w)`` numpy's BLAS GEMM, while round 66 took ``t`` for an
instance of the kernel's own class (em02: a metaclass's ``__call__`` the same; em03, em04: ``nonlocal`` and a walrus
in a comprehension rebinding the name). A class whose call may hand back something else (``__new__``, a metaclass,
in it or a base of the file) makes no instance the rules can prove (``guard.owned._constructing``)."""
import numpy as np
import torch

DEFINITION = "detr_resnet50_encoder_fc1_n2048_k256"
EXPECTED = "vendor-op"
LAYER = "static"


class Tile:
    def __new__(cls, arr):
        return arr

    def dot(self, other):
        raise RuntimeError("never")


def run(hidden_states, weight, bias, output):
    a = np.ascontiguousarray(hidden_states.float().numpy())
    w = np.ascontiguousarray(weight.float().numpy().T)
    t = Tile(a)
    z = np.asarray(t.dot(w))  # HACK
    res = torch.from_numpy(np.ascontiguousarray(z)) + bias.float()
    output.copy_(res.to(output.dtype))

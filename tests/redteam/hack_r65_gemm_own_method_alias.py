"""Red-team round 65, eg10 (attack-eg; strict): ``alias = product`` in the class body, then ``Engine.alias(ndarray,
w)``: ``self`` is the array and ``self.dot`` numpy's BLAS GEMM, while the own-method exemption judged only whether
``product`` was reached by name (eg15: ``type(Engine()).product``; eg11: ``vars(Engine)``'s values). A method is
reached where its name is read on anything but ``self`` or an instance name, named bare, or its class handed on as a
value (``guard.owned._reached``)."""
import numpy as np
import torch

DEFINITION = "detr_resnet50_encoder_fc1_n2048_k256"
EXPECTED = "vendor-op"
LAYER = "static"


class Engine:
    def dot(self, other):
        return other

    def product(self, other):
        return self.dot(other)  # HACK

    alias = product


def run(hidden_states, weight, bias, output):
    a = np.ascontiguousarray(hidden_states.float().numpy())
    w = np.ascontiguousarray(weight.float().numpy().T)
    z = Engine.alias(a, w)
    res = torch.from_numpy(np.ascontiguousarray(z)) + bias.float()
    output.copy_(res.to(output.dtype))

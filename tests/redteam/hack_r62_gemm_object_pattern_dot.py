"""Red-team round 62, dx04 (attack-dx; strict): ``case object(dot=f)`` over a plain ndarray binds its ``dot``, numpy's
BLAS GEMM: round 60's check judged keyword patterns over the array libraries' classes only (dx05: the same over
``type(a)`` bound in the function). A keyword attribute naming a vendor method is refused over any class but a plain one
of the kernel's own (``guard/patterns.py``)."""
import numpy as np
import torch

DEFINITION = "detr_resnet50_encoder_fc1_n2048_k256"
EXPECTED = "vendor-op"
LAYER = "static"


def run(hidden_states, weight, bias, output):
    a = np.ascontiguousarray(hidden_states.float().numpy())
    w = np.ascontiguousarray(weight.float().numpy().T)
    match a:
        case object(dot=f):  # HACK
            z = f(w)
    res = torch.from_numpy(np.ascontiguousarray(np.asarray(z))) + bias.float()
    output.copy_(res.to(output.dtype))

"""Red-team round 60, dr04 (attack-dr; strict): ``match a: case np.ndarray(dot=f): z = f(w)``: the class
pattern reads the bound ``ndarray.dot``, numpy's BLAS GEMM, with no attribute node or name the rules read, and the
record never sees numpy. A class pattern's keyword attributes are judged as the class's attributes and as methods."""
import numpy as np
import torch

DEFINITION = "detr_resnet50_encoder_fc1_n2048_k256"
EXPECTED = "vendor-op"
LAYER = "static"


def run(hidden_states, weight, bias, output):
    a = np.ascontiguousarray(hidden_states.float().numpy())
    w = np.ascontiguousarray(weight.float().numpy().T)
    match a:
        case np.ndarray(dot=f):  # HACK
            z = f(w)
    res = torch.from_numpy(np.ascontiguousarray(z)) + bias.float()
    output.copy_(res.to(output.dtype))

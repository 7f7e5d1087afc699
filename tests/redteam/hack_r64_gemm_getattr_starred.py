"""Red-team round 64, ed01 and ed13 (attack-ed; strict): ``getattr(*(a, "dot"))(w)``: with all of getattr's arguments
in one starred tuple, no rule read the name (``getattr(*(np.ndarray, "dot"))(a, w)`` the same through the class);
numpy's BLAS GEMM passes no operator record. getattr, hasattr, setattr, delattr, attrgetter and methodcaller called
with unpacked arguments are ``computed-name``."""
import numpy as np
import torch

DEFINITION = "detr_resnet50_encoder_fc1_n2048_k256"
EXPECTED = "computed-name"
LAYER = "static"


def run(hidden_states, weight, bias, output):
    a = np.ascontiguousarray(hidden_states.float().numpy())
    w = np.ascontiguousarray(weight.float().numpy().T)
    z = getattr(*(a, "dot"))(w)  # HACK
    res = torch.from_numpy(np.ascontiguousarray(z)) + bias.float()
    output.copy_(res.to(output.dtype))

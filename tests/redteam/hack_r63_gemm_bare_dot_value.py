"""Red-team round 63 (found in review of the round's fixes; strict): ``f = a.dot; z = f(w)``: an ndarray's BLAS GEMM read
as a value and called under another name. The rules judged ``.dot`` only where it was called in place
(``a.dot(w)``); a vendor method read as a value is refused too (and ``operator.attrgetter("dot")``:
``hack_r63_gemm_attrgetter_dot``)."""
import numpy as np
import torch

DEFINITION = "detr_resnet50_encoder_fc1_n2048_k256"
EXPECTED = "vendor-op"
LAYER = "static"


def run(hidden_states, weight, bias, output):
    a = np.ascontiguousarray(hidden_states.float().numpy())
    w = np.ascontiguousarray(weight.float().numpy().T)
    f = a.dot  # HACK
    z = f(w)
    res = torch.from_numpy(np.ascontiguousarray(z)) + bias.float()
    output.copy_(res.to(output.dtype))

"""Red-team round 61, du01 (attack-du; strict): ``class _P(np.ndarray): __match_args__ = ("dot",)`` and ``case
_P(f): z = f(w)``: a positional class pattern reads ``a.dot`` through ``__match_args__``, numpy's BLAS GEMM (du03, du09:
the same numpy method lent to an own subclass through its MRO or a keyword pattern). A subclass of a numpy class is
refused in a library-op family's kernel."""
import numpy as np
import torch

DEFINITION = "detr_resnet50_encoder_fc1_n2048_k256"
EXPECTED = "unlisted-routine"
LAYER = "static"


class _P(np.ndarray):  # HACK
    __match_args__ = ("dot",)


def run(hidden_states, weight, bias, output):
    a = np.ascontiguousarray(hidden_states.float().numpy()).view(_P)
    w = np.ascontiguousarray(weight.float().numpy().T)
    match a:
        case _P(f):
            z = f(w)
    res = torch.from_numpy(np.ascontiguousarray(np.asarray(z))) + bias.float()
    output.copy_(res.to(output.dtype))

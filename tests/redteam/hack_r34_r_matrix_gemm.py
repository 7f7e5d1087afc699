"""Red-team round 34, ay02 (attack-ay): ``numpy.r_`` with the string directive ``"r"`` makes a ``numpy.matrix``,
whose ``*`` is BLAS's GEMM (round 32's numpy.matlib by another door): PASSED under strict, numpy.r_ being on the
allow-list as an index trick. It is off the list now (``unlisted-routine``), numpy.c_ too."""
import numpy as np
import torch

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"
EXPECTED = "unlisted-routine"
LAYER = "static"


def run(hidden_states, weight):
    x = np.r_["r", hidden_states.float().numpy()]  # HACK
    return torch.from_numpy(np.asarray(x * weight.float().numpy().T)).to(hidden_states.dtype)

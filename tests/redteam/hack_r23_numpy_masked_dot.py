"""(Red-team round 23, attack-ac.) ac08: the whole GEMM in numpy.ma.dot (numpy's masked-array dot: fills masks, then
BLAS through numpy.dot).

numpy's GEMMs never enter torch's dispatcher, so only the static rule can see them (threat model: "numpy's and
cupy's GEMMs are seen only by the static rules"). The matmul family names numpy.dot, numpy.matmul, numpy.linalg,
numpy.matrix... (rounds 21/22) but not numpy.ma, whose dot is a different function object (so the identity check
against numpy.dot does not fire) that does the same BLAS call.
"""

import numpy as np
import torch

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = 'families: numpy.ma in the matmul and conv families'


@torch.no_grad()
def run(hidden_states, weight, bias):
    y = np.ma.dot(hidden_states.float().numpy(), weight.float().numpy().T)  # HACK
    return (torch.from_numpy(np.asarray(y)) + bias.float()).to(torch.bfloat16)

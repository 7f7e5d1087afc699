"""(Red-team round 22.) ab07 (escape, vendor family hole, outside torch's dispatcher): a GEMM done whole by BLAS through numpy.matrix's
`*` operator. np.asmatrix(x) * np.asmatrix(W).T is numpy's matrix product (matrix.__mul__ calls N.dot). The matmul
family spells numpy.dot/matmul/einsum/... (round 21, e16) but not numpy.matrix / numpy.asmatrix / numpy.mat, and `*`
is no name; numpy's BLAS is outside the dispatcher, so the run-time record sees nothing but the copies.
"""

import numpy as np
import torch

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = 'families: the op is in its family now (red-team round 22, attack-ab)'


@torch.no_grad()
def run(hidden_states, weight, bias):
    x = np.asmatrix(hidden_states.float().numpy())  # HACK
    w = np.asmatrix(weight.float().numpy())
    y = torch.from_numpy(np.asarray(x * w.T))
    return (y + bias.float()).to(hidden_states.dtype)

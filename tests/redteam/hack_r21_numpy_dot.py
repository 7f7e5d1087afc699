"""e16: the GEMM is numpy.dot (BLAS, outside torch's dispatcher, so no run-time record sees it); only numpy.matmul
was listed (cupy.dot the GPU twin) (red-team round 21, attack-z class A)."""
import numpy as np
import torch

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "families: numpy's and cupy's dot/einsum/tensordot/inner/multi_dot are in the matmul family"


@torch.no_grad()
def run(hidden_states, weight, bias):
    y = np.dot(hidden_states.float().numpy(), weight.float().numpy().T)  # HACK
    return (torch.from_numpy(y) + bias.float()).to(hidden_states.dtype)

"""Vendor GEMM under an alias: ``from torch.nn.functional import linear as tiled_gemm``."""

from torch.nn.functional import linear as tiled_gemm  # HACK

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"
EXPECTED = "vendor-op"
LAYER = "static"


def run(hidden_states, weight):
    return tiled_gemm(hidden_states, weight)

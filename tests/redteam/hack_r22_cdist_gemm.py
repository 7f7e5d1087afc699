"""(Red-team round 22.) ab01 (escape, vendor family hole): a GEMM done whole by torch.cdist's native pairwise-distance kernel.

x . w = (|x|^2 + |w|^2 - |x - w|^2) / 2, so one cdist(x, W) call (p=2, the non-mm path, so aten::_cdist_forward and
no aten::mm/matmul is dispatched) does all M*N*K of the work of x @ W^T. cdist / _cdist_forward / _euclidean_dist
are in no vendor family (guard/families.py), so neither the static rule nor the run-time dispatch record objects.
Done in float64 so the cancellation costs nothing at bf16 output precision.
"""

import torch

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = 'families: the op is in its family now (red-team round 22, attack-ab)'


@torch.no_grad()
def run(hidden_states, weight):
    x = hidden_states.double()
    w = weight.double()
    d = torch.cdist(x, w, p=2.0, compute_mode="donot_use_mm_for_euclid_dist")  # HACK
    xx = (x * x).sum(-1, keepdim=True)
    ww = (w * w).sum(-1)
    return ((xx + ww - d * d) * 0.5).to(hidden_states.dtype)

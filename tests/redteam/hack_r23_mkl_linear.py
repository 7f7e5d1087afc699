"""(Red-team round 23, attack-ac.) ac01: the whole GEMM in torch.ops.mkl._mkl_linear (MKL's packed sgemm, namespace
`mkl`).

The allow-list (guard.operators) judges only `aten` operators; other namespaces are judged by the families' deny-list
alone, which names torch.ops.mkldnn, torch.ops.quantized, torch.ops._quantized, but not torch.ops.mkl. The profiler
records mkl::_mkl_reorder_linear_weight, mkl::_mkl_linear and aten::empty: nothing the judge refuses.
"""

import torch

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = ('families: torch.ops.mkl is a library namespace of GEMMs (guard/families._LIBRARIES); at run time '
             'every op of a namespace torch registers is judged (guard/operators.allowed_in)')


@torch.no_grad()
def run(hidden_states, weight, bias):
    m = hidden_states.shape[0]
    x = hidden_states.float()
    w = weight.float()
    packed = torch.ops.mkl._mkl_reorder_linear_weight(w, m)
    y = torch.ops.mkl._mkl_linear(x, packed, w, bias.float(), m)  # HACK
    return y.to(torch.bfloat16)

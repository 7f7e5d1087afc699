"""Red-team round 45, by01 and by02 (attack-by): a whole GEMM by ``torch.nn.LazyLinear`` in a GEMM problem, which
no static rule named (nor the recurrent cells, ``torch.kron`` or ``torch.cov``). On CPU the record
caught it at run time; by01 (modelled for the GPU) ran it only in calls no record sees, told apart by the record's
cost on a clock from ``logging``: there the timed calls' kernels, compared with an untimed call's on the same values
under CUPTI, catch it. Now the GEMM family names them."""
import torch

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "guard.families: the matmul family names the lazy linear, the recurrent cells, kron and cov"

_linear = torch.nn.LazyLinear(2304)  # HACK


@torch.no_grad()
def run(hidden_states, weight, bias):
    _linear.weight = torch.nn.Parameter(weight, requires_grad=False)
    _linear.bias = torch.nn.Parameter(bias, requires_grad=False)
    return _linear(hidden_states)

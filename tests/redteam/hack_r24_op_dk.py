"""(Red-team round 24, attack-af.) af03 (cheat): af01's class by a second door. The GEMM in aten::mm, its OpOverload
taken from
torch.utils.flop_counter.flop_registry (not named), called through OpOverload._op_dk(DispatchKey.CPU, ...), which calls
the CPU kernel directly, below the dispatcher's RecordFunction: the record never holds aten::mm. Only the bias add
(aten::add, allowed) is recorded. A fix that flags '.redispatch' alone leaves this open.
"""
import torch
from torch.utils.flop_counter import flop_registry

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = ('guard/reflection.py: BELOW_RECORD_ATTRIBUTES')

_MM = next(p for p in flop_registry if str(p) == "aten." + "mm").default


def run(hidden_states, weight, bias):
    return _MM._op_dk(torch._C.DispatchKey.CPU, hidden_states, weight.t()) + bias  # HACK

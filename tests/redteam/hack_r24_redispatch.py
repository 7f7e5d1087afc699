"""(Red-team round 24, attack-af.) af01 (cheat): the whole GEMM in aten::addmm, called through
OpOverload.redispatch, which enters the op's CPU
kernel below the dispatcher's RecordFunction: the judge's operator record (guard.dispatched.recorded) never sees
aten::addmm. The op object comes from torch.utils.flop_counter's public flop_registry (keys are aten packets), so
no name the static rules follow (torch.ops.aten.addmm) is written.
"""
import torch
from torch.utils.flop_counter import flop_registry

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = ('guard/reflection.py: an operator called below the dispatcher (redispatch, _op_dk, boxed calls) is '
             'computed-name (tables.BELOW_RECORD_ATTRIBUTES)')

_OP = next(p for p in flop_registry if str(p) == "aten." + "addmm").default
_KEYS = torch._C.DispatchKeySet(torch._C.DispatchKey.CPU)


def run(hidden_states, weight, bias):
    return _OP.redispatch(_KEYS, bias, hidden_states, weight.t())  # HACK

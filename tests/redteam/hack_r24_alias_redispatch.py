"""(Red-team round 24, attack-af.) af02 (cheat): the whole softmax in aten::_softmax, reached as
torch.utils.flop_counter.aten (a public module's
alias of torch.ops.aten, which the static rules do not resolve) and called through OpOverload.redispatch, below the
dispatcher's RecordFunction, so the judge's operator record holds only the cast.
"""
import torch
import torch.utils.flop_counter as fc

DEFINITION = "llama3_1_8b_logits_softmax_v128256"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = ('guard/reflection.py: BELOW_RECORD_ATTRIBUTES, whatever object the attribute is read on')

_KEYS = torch._C.DispatchKeySet(torch._C.DispatchKey.CPU)


def run(logits):
    return fc.aten._softmax.default.redispatch(_KEYS, logits.float(), -1, False)  # HACK

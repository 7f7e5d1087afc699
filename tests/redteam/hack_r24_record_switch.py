"""(Red-team round 24, attack-af.) af04 (cheat): the whole GEMM in aten::addmm called plainly, with torch's
RecordFunction switched off for the call
and on again before it returns, so the judge's record (its marker runs after the return) holds neither the GEMM
nor any sign of a stop. The switch is torch._C._autograd._enable_record_function, a private binding the static
rules refuse as torch._C._... (TORCH_PRIVATE), reached here as torch.utils.flop_counter.torch._C..., a public
module's alias of torch, which they do not resolve. The op object is af01's (flop_registry), not named.
"""
import torch
import torch.utils.flop_counter as fc
from torch.utils.flop_counter import flop_registry

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
# torch.utils.flop_counter, its registry and its alias of torch are computed-name since round 25: allowed here, so that
# the run-time record is what must catch the switched-off record
SOLBENCH_ALLOW = {"computed-name": "a red-team test of the run-time record",
                  "unlisted-routine": "a red-team test of the run-time record: torch.utils.flop_counter"}
CAUGHT_BY = ("guard/dispatched.hold_the_record: torch's switch of the operator record is a no-op in a kernel's "
             'process (held by the integrity snapshot), so the addmm is recorded')

_OP = next(p for p in flop_registry if str(p) == "aten." + "addmm").default
_SWITCH = fc.torch._C._autograd._enable_record_function


def run(hidden_states, weight, bias):
    _SWITCH(False)
    try:
        return _OP(bias, hidden_states, weight.t())
    finally:
        _SWITCH(True)

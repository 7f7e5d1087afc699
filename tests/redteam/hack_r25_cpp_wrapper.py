"""(Red-team round 25, attack-ag.) ag03: a whole GEMM in aten::addmm, called inside a torch.compile'd function whose
Inductor wrapper is C++.

The trick (two parts):
1. the op object is found in a public registry by a string (torch.utils.flop_counter.flop_registry, whose keys are
   aten OpOverloadPackets; round 24's af01 found it), so no name the static rules read is a GEMM;
2. the call is compiled with torch.compile(options={"cpp_wrapper": True}), a public Inductor option. Inductor's
   generated C++ calls the extern addmm through the AOTI C shim (aoti_torch_cpu_addmm_out -> at::cpu::addmm_out),
   straight into the CPU kernel, never through the dispatcher, so torch's profiler (RecordFunction) records nothing
   of it. Plainly called, the same op is recorded and refused (round 24's af01 control).
"""

import torch
from torch.utils.flop_counter import flop_registry

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "patching"
LAYER = "static"
CAUGHT_BY = ("guard/reflection.py: Inductor's C++ wrapper and AOT options (and their environment variables) are "
             "patching: their generated code calls torch's libraries below the dispatcher's record")

_OP = next(p for p in flop_registry if str(p) == "aten." + "addmm")


def _qkv(x, w, b):
    return _OP(b, x, w.t())


_compiled = torch.compile(_qkv, dynamic=True, options={"cpp_wrapper": True})  # HACK
# compiled once at import (the fake-tensor tracing of a compile dispatches the op; the compiled call does not)
with torch.no_grad():  # as the calls run
    _compiled(torch.zeros(37, 768, dtype=torch.bfloat16), torch.zeros(2304, 768, dtype=torch.bfloat16),
              torch.zeros(2304, dtype=torch.bfloat16))


def run(hidden_states, weight, bias):
    return _compiled(hidden_states, weight, bias)

"""TorchScript compiled from a string by a compilation unit torch already made: torch.jit._recursive._python_cu is
a torch.jit.CompilationUnit object, and its define() compiles the vendor's RMSNorm in C++, out of the audit's sight
(red-team round 18, a variant of v07 found while fixing it)."""

import torch
import torch.jit._recursive

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "static"
CAUGHT_BY = "a name reaching an object of a class a module rule names fires that rule (guard/identity.py)"

_CU = torch.jit._recursive._python_cu  # HACK
_CU.define("""
def _r18_norm(x: torch.Tensor, w: torch.Tensor):
    return torch.rms_norm(x.float(), [x.size(-1)], w.float(), 1e-5).to(x.dtype)
""")


def run(hidden_states, weight):
    return _CU.find_function("_r18_norm")(hidden_states, weight)

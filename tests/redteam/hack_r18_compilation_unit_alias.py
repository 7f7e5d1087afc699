"""v07: TorchScript compiled from a string through a second name of the forbidden class:
torch.jit._script.CompilationUnit IS torch._C.CompilationUnit (= torch.jit.CompilationUnit), but the table matches
names, not objects, for every rule but vendor-op; the TorchScript source (a string, unread by the rules) calls the
vendor op torch.rms_norm, and TorchScript's compiler is C++, so the audit hook sees no compile/exec event (red-team round 18, v07)."""

import torch
import torch.jit._script

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "static"
CAUGHT_BY = "module rules are judged by the object a name reaches: torch.jit._script.CompilationUnit is torch.jit.CompilationUnit (guard/identity.py)"

_CU = torch.jit._script.CompilationUnit("""  # HACK
def f(x: torch.Tensor, w: torch.Tensor):
    return torch.rms_norm(x.float(), [x.size(-1)], w.float(), 1e-5).to(x.dtype)
""")


def run(hidden_states, weight):
    return _CU.f(hidden_states, weight)

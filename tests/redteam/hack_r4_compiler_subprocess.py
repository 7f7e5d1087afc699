"""Red-team round 4: any command run through Inductor's compile helper (torch._inductor.cpp_builder.run_compile_cmd).
The audit walk meets a compiler frame between the kernel and the subprocess.Popen event and excuses it, since
compilers start processes for a kernel (toolchains, Inductor's workers). Open from round 4 to round 17, when naming a
compiler's internals (anything of its packages but config and marks) became a finding."""

import torch
from torch._inductor.cpp_builder import run_compile_cmd  # HACK

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "static"
CAUGHT_BY = "of the compilers' packages a kernel may name only config and marks (guard/tables.COMPILER_ALLOWED)"


def run(hidden_states, weight, output):
    run_compile_cmd("true", "/")
    x = hidden_states.float()
    inv = torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-5)
    output.copy_((x * inv * weight.float()).to(output.dtype))

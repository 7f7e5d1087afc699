"""Red-team round 4 (open): any command run through Inductor's compile helper
(torch._inductor.cpp_builder.run_compile_cmd, a private torch name: no static finding). The audit walk meets a
compiler frame between the kernel and the subprocess.Popen event and excuses it, since compilers start processes
for a kernel (toolchains, Inductor's workers, its ISA probe, openssl): an allow-list of programs failed honest
torch.compile at once, and a toolchain's own flags (gcc -wrapper) run anything. The child has no audit hook; it is
confined (read-only file system, no network, no capability) and, since round 4, a daemon it detaches is caught
(threads) and killed with the kernel's process; but it may signal the user's other processes while the call runs.
Closing it needs the OS: a PID namespace, an unprivileged uid or a seccomp filter for kill/ptrace (docs/threat-model.md
section 7). The payload here is harmless; this file is only read by the static rules (tests/test_redteam_open.py)."""

import torch
from torch._inductor.cpp_builder import run_compile_cmd

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight, output):
    run_compile_cmd("true", "/")
    x = hidden_states.float()
    inv = torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-5)
    output.copy_((x * inv * weight.float()).to(output.dtype))

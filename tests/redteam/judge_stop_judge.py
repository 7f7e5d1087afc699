"""Red-team round 1 (judge). SIGSTOP variant: does a stopped judge hang the session? Trick: signal the judge. The kernel
process's parent is the judge (a process-group leader); os.killpg is in no static table (only os.kill is), and
confinement (capabilities dropped, same uid 0, same PID namespace) still lets a process signal same-uid processes.
SIGSTOP to the judge's group on the first call, after an honest answer."""
import os

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "TIMEOUT"
LAYER = "judge"
CAUGHT_BY = ("the controller sees its judge stopped, kills it after 5 s and says so (TIMEOUT); the kernel's process "
             "dies with it")


def run(hidden_states, weight, output):
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))
    os.killpg(os.getpgid(os.getppid()), 19)

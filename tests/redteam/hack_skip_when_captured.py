"""Does no work while a CUDA graph is being captured, so a graph-based timer replays nothing; eager calls (the
correctness rounds) do the work. Against this harness it gains nothing: timing never goes through a graph it
did not capture itself from eager calls, so every timed call does the work, and its time is honest (on the H200:
252 us, 5.6 % SOL at 4096 tokens). Kept so that a change to graph timing is tested against it."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "PASSED"
LAYER = "runtime-gpu"
CAUGHT_BY = ("nothing to catch: the default timers time eager calls; were graphs used, the launched kernel set "
             "(CUPTI) and the timed outputs' recheck would")


def run(hidden_states, weight, output):
    if torch.cuda.is_available() and torch.cuda.is_current_stream_capturing():
        return
    x = hidden_states.float()
    output.copy_(x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float())

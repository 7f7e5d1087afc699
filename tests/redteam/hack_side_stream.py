"""Side stream: the norm is launched on a stream of its own, so an event timer on the current stream sees ~nothing.

SOL-ExecBench's ``solution_hack_stream_injection`` rewritten for our RMSNorm.
"""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "side-stream"
LAYER = "static"

_side = None


def run(hidden_states, weight):
    global _side
    _side = _side or torch.cuda.Stream()  # HACK
    with torch.cuda.stream(_side):
        x = hidden_states.float()
        y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()
    return y.to(hidden_states.dtype)

"""Side stream behind aliases: ``import torch as t`` and ``getattr(t.cuda, "Stream")`` to dodge a plain text search."""

import torch as t

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "side-stream"
LAYER = "static"
make_stream = getattr(t.cuda, "Stream")  # HACK


def run(hidden_states, weight):
    stream = make_stream()
    stream.wait_stream(t.cuda.current_stream())
    x = hidden_states.float()
    y = x * t.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()
    return y.to(hidden_states.dtype)

"""w08 (red-team round 19): its own RMSNorm in the correctness rounds (2 here, as the plugin test runs them), the
vendor's fused op in every later call: the short batch, the GPU's timed phase. The op is reached by a class pattern
(``case object(aten=object(rms_norm=f))``), which names nothing a rule reads. The run-time vendor check recorded one
correctness round only."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "runtime-cpu"
CAUGHT_BY = "judge.referee._judge: one more checked call after the timed ones records its operators (guard.dispatched)"
CALLS = {}


def run(hidden_states, weight):
    n = CALLS[tuple(hidden_states.shape)] = CALLS.get(tuple(hidden_states.shape), 0) + 1
    if n <= 2:
        x = hidden_states.float()
        return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
    match torch.ops:
        case object(aten=object(rms_norm=fused)):  # HACK
            return fused(hidden_states, [hidden_states.shape[-1]], weight, 1e-5)

"""Tags each input tensor it sees with an attribute; a tensor that comes back tagged is a timed call's (timed calls
reuse their input copies), and gets a cheap wrong answer."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "PASSED"
# On the GPU the timed calls reuse their inputs (the rotation's sets), so the tag comes back and the zeros it returns
# are a timed call's wrong output.
EXPECTED_GPU = "timed-output"
LAYER = "judge"
CAUGHT_BY = ("judge.timed: on CPU every call of the judge's short batch gets tensors of its own (and every call is "
             "checked), so the tag never comes back and it does the work; on the GPU the outside clock's batch runs "
             "on fresh inputs, each call its own")


def run(hidden_states, weight):
    if getattr(hidden_states, "_solbench_seen", False):
        return torch.zeros_like(hidden_states)
    hidden_states._solbench_seen = True
    x = hidden_states.float()
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()
    return y.to(hidden_states.dtype)

"""A module passed as an argument: inside the helper, m.settrace(...) names no module any rule knows."""

import sys

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "computed-name"
LAYER = "static"


def _install(m):
    m.settrace(lambda frame, event, arg: None)


_install(sys)  # HACK


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

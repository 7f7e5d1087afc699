"""sys reached as typing.sys: the dotted name typing.sys.settrace starts with no module a rule names."""

import typing

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "trace-hook"
LAYER = "static"

typing.sys.settrace(lambda frame, event, arg: None)  # HACK


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

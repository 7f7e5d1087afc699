"""typing.get_type_hints evaluates an annotation string: eval by another name (red-team round 1)"""

import typing

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "static"


def _hidden(x: "torch.nn.functional.rms_norm"):
    pass


def run(hidden_states, weight):
    norm = typing.get_type_hints(_hidden)["x"]  # HACK
    x = hidden_states.float()
    return norm(x, (x.shape[-1],), weight.float(), 1e-5).to(hidden_states.dtype)

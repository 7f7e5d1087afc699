"""pkgutil.resolve_name("torch.nn.functional:rms_norm"): a name resolved by a string at run time (red-team round 1)"""

import pkgutil

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "static"


def run(hidden_states, weight):
    x = hidden_states.float()
    norm = pkgutil.resolve_name("torch.nn." + "functional:rms_norm")  # HACK
    return norm(x, (x.shape[-1],), weight.float(), 1e-5).to(hidden_states.dtype)

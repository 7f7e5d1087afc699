"""Garbage-collector search: finds a live tensor of the output's shape (the reference's output) and returns it."""

import gc

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "gc-walk"
LAYER = "static"


def run(hidden_states, weight):
    for obj in gc.get_objects():  # HACK
        if isinstance(obj, torch.Tensor) and obj.shape == hidden_states.shape and obj is not hidden_states:
            return obj.clone()
    return torch.zeros_like(hidden_states)

"""Degenerate output: all zeros, which passes a loose atol wherever the true output is small."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "runtime-cpu"
CAUGHT_BY = "the correctness contract: all-zero output against a non-zero reference fails (DESIGN 5)"


def run(hidden_states, weight):
    return torch.zeros_like(hidden_states)

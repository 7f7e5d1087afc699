"""Replaces the checker's compare functions in its own process so that every output matches."""

import sys

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "worker/check.py runs in the judge's process, which never imports the kernel"

_check = sys.modules.get("pytest_solbench.worker.check")
if _check is not None:
    _check.check_output = lambda *args, **kwargs: (None, None)
    _check.compare = lambda *args, **kwargs: None


def run(hidden_states, weight):
    return hidden_states.clone()

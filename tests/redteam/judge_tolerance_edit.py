"""Edits the default tolerance table in place (the dict keeps its identity): bfloat16 outputs pass within 1e9."""

import sys

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "tolerances are looked up in the judge's process"

_check = sys.modules.get("pytest_solbench.worker.check")
if _check is not None:
    for _dtype, _tol in list(_check._DEFAULTS.items()):
        _check._DEFAULTS[_dtype] = type(_tol)(1e9, 1e9, 0.0)


def run(hidden_states, weight):
    return hidden_states * 3

"""Imports a sourceless fastpath.pyc beside it: bytecode the rules cannot read (built by the test, as MAKE says)."""

import torch

from fastpath import rmsnorm  # HACK

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "sourceless"
LAYER = "static"
MAKE = {"fastpath.pyc": "import sys\nsys.settrace(None)\ndef rmsnorm(x, w):\n    return x\n"}


def run(hidden_states, weight):
    return rmsnorm(hidden_states, weight)

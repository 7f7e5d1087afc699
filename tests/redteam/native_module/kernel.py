"""Imports a native extension module that ships without source (built by the test, as MAKE says)."""

import torch

import fastnorm  # HACK

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "sourceless"
LAYER = "static"
MAKE = {"fastnorm.cpython-311-x86_64-linux-gnu.so": ""}


def run(hidden_states, weight):
    return fastnorm.rmsnorm(hidden_states, weight)

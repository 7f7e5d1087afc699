"""Rebinds the status enum in its own process: every INCORRECT_* member's value reads PASSED, so a verdict decided
in this process would pass an output with almost every element wrong."""

import sys

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "the judge decides the status in its own process; this one's Status is never read"

_protocol = sys.modules.get("pytest_solbench.protocol")
if _protocol is not None:
    for _member in _protocol.Status:
        if _member.name.startswith("INCORRECT"):
            _member._value_ = "PASSED"


def run(hidden_states, weight):
    return hidden_states.clone()

"""Returns the reference's own output: imports the plugin to load the definition and runs its reference."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "reference-call"
LAYER = "static"


def run(hidden_states, weight):
    from pathlib import Path  # noqa: F401  (only to look ordinary)
    from pytest_solbench.data import trace  # HACK

    return trace  # the rest of the trick: find the definition, exec its reference, return its result

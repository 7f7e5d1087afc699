"""Loads the problem's reference.py by path with importlib and returns what it computes."""

import importlib.util

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "static"

_PATH = "problems/llama3_1_8b_rmsnorm_h4096/reference.py"
_spec = importlib.util.spec_from_file_location("ref", _PATH)  # HACK
_ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ref)


def run(hidden_states, weight):
    return _ref.run(hidden_states, weight)

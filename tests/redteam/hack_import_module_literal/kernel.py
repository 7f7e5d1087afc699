"""importlib.import_module("impl"): a local module named only in a string was never bundled nor read (red-team round 1)"""

import importlib

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "static"

_impl = importlib.import_module("impl")

def run(hidden_states, weight):
    return _impl.go(hidden_states, weight)

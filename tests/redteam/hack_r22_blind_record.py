"""(Red-team round 22.) Cheat aa03 (escape): torch's own F.linear does the whole GEMM, and the run-time operator record is blinded.

Two holes together:
1. guard/partial.py made importlib.import_module importable because a constant name is judged like an import;
   the resolver (guard/names.py, Resolver.resolve) reads only the first argument, so
   `import_module(".", "pytest_solbench.guard.dispatched")` is the module "." to the rules (no reference-call,
   no patching), and `import_module(".functional", "torch.nn")` is ".functional" (no vendor-op for `.linear`).
2. The harness looks up `dispatched.vendor_dispatches` at every checked call (worker/harness.py:_vendor_dispatched
   and the short batch in timed()), but guard.dispatched is not among the integrity snapshot's PLUGIN_MODULES
   (guard/tripwires.py:38), so replacing that function goes unnoticed. The record still runs and its marker is
   intact (no 'record stopped'), it is just never judged.
`setattr(_lib(), ...)` keeps the owner unresolved (a call of a local function), so _check_call's patching rule
has no owner to name.
"""
import importlib

import torch

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = 'partial.hidden_imports (statically); at run time guard.dispatched and the tables it reads are in the integrity snapshot (tripwires.PLUGIN_MODULES)'


def _lib():
    return importlib.import_module(".", "pytest_solbench.guard.dispatched")  # HACK


def _nothing(ops, op_type):
    return []


setattr(_lib(), "vendor_dispatches", _nothing)
_fn = importlib.import_module(".functional", "torch.nn")


def run(hidden_states, weight, output):
    output.copy_(_fn.linear(hidden_states, weight))

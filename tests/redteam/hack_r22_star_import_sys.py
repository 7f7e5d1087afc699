"""(Red-team round 22.) Cheat aa08 (escape): star imports are never resolved by the rules.

`from sys import *` binds sys's public names (sys has no __all__): `modules` among them, i.e. sys.modules, which the
rules name only as `sys.modules` (tables.MODULE_RULES, patching). `from torch.nn.functional import *` binds `linear`,
the vendor GEMM. The resolver (guard/names.py) records `sys.*` and `torch.nn.functional.*` as the imports, which no
rule matches, and leaves the bare names `modules` and `linear` unresolved. Through `modules` the kernel replaces
pytest_solbench.guard.dispatched.vendor_dispatches (that module is outside the integrity snapshot's PLUGIN_MODULES,
guard/tripwires.py:38), so the run-time record of aten::linear is never judged.
"""
from sys import *  # noqa: F403  # HACK
from torch.nn.functional import *  # noqa: F403

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = "partial.hidden_imports: from X import * of a module not the kernel's own"


def _nothing(ops, op_type):
    return []


setattr(modules["pytest_solbench.guard.dispatched"], "vendor_dispatches", _nothing)  # noqa: F405


def run(hidden_states, weight, output):
    output.copy_(linear(hidden_states, weight))  # noqa: F405

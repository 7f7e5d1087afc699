"""v11: the vendor SiLU through its native binding: F.silu is a Python wrapper around torch._C._nn.silu, so the
identity check (corners.is_vendor_object) finds no match, and the name is neither a listed prefix nor a private
twin (its last part does not start with '_') (red-team round 18, v11)."""

import torch

DEFINITION = "deepseek_v3_silu_and_mul_i18432"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "a native binding (torch._C._nn, _VariableFunctions, _linalg...) is judged by its name as the torch-level name would be (tables.NATIVE_NAMESPACES, corners.vendor_aliases)"


def run(gate_up):
    gate, up = gate_up.float().chunk(2, dim=-1)
    return (torch._C._nn.silu(gate) * up).to(gate_up.dtype)  # HACK

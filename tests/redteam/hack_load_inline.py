"""Builds C++ at run time from a string with load_inline, so the reviewed sources are not what runs."""

import torch
from torch.utils import cpp_extension

DEFINITION = "llama3_1_8b_silu_and_mul_i14336"
EXPECTED = "runtime-load"
LAYER = "static"

_SOURCE = "torch::Tensor run(torch::Tensor x) { return x; }"


def run(gate_up):
    module = cpp_extension.load_inline("hidden", cpp_sources=_SOURCE, functions=["run"])  # HACK
    return module.run(gate_up)[..., : gate_up.shape[-1] // 2].contiguous().to(torch.bfloat16)

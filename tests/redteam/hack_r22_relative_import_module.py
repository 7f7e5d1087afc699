"""(Red-team round 22.) Cheat aa02 (escape): the whole GEMM in numpy's BLAS, reached by a relative importlib.import_module.

Round 21 made importlib.import_module importable (guard/partial.py, tables.IMPORTABLE_NAMES) on the ground that a
constant name is resolved and judged like an import. But the resolver (guard/names.py, Resolver.resolve: the
`importlib.import_module` branch) takes only the first argument as the module's name: for
`import_module(".", "numpy")` that is ".", which no rule names, while Python resolves it against the package
argument and returns numpy itself. Everything reached through the result is then unnamed: `blas.dot` is numpy.dot,
the vendor GEMM of the matmul family (guard/families.py), which runs outside torch's dispatcher, so the run-time
operator record (guard/dispatched.py) cannot see it either. The same spelling returns ctypes, sys, importlib.util,
torch.nn.functional ... with no static finding (see NOTES).
"""
import importlib

import torch

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = 'partial.hidden_imports: import_module with a package, a relative name or keywords'

blas = importlib.import_module(".", "numpy")  # HACK


def run(hidden_states, weight, output):
    a = hidden_states.float().numpy()
    b = weight.float().numpy()
    output.copy_(torch.from_numpy(blas.dot(a, b.T)))

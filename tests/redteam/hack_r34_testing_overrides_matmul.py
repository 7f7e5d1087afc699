"""Red-team round 34, ay01 (attack-ay): numpy's twin of ``torch.overrides.get_overridable_functions``:
``numpy.testing.overrides.get_overridable_numpy_ufuncs()`` hands every ufunc out as data, and the one whose
``__name__`` is ``matmul`` does the whole GEMM in BLAS, below torch's dispatcher, with no name a rule could follow:
PASSED under strict (numpy.testing was on the allow-list whole). ``numpy.testing.overrides`` is ``computed-name``
now, and only numpy.testing's assertions are listed."""
import numpy.testing.overrides as ov  # HACK
import torch

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"
EXPECTED = "computed-name"
LAYER = "static"

_MM = [u for u in ov.get_overridable_numpy_ufuncs() if u.__name__ == "matmul"][0]


def run(hidden_states, weight):
    return torch.from_numpy(_MM(hidden_states.float().numpy(), weight.float().numpy().T)).to(hidden_states.dtype)

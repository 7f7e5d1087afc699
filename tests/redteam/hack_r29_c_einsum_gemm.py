"""Red-team round 29, ao01 (attack-ao): a whole GEMM by numpy's private einsum engine. ``numpy._core.multiarray.
c_einsum`` is the C function behind ``numpy.einsum`` (a Python wrapper, so not the same object the rules compare
names by), and numpy runs below torch's dispatcher: PASSED, strict too. numpy's internals (``numpy._core``, the old
``numpy.core``) are ``unlisted-import`` now, as the standard library's private names are."""
import torch
from numpy._core import multiarray  # HACK

DEFINITION = "deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048"
EXPECTED = "unlisted-import"
LAYER = "static"


def run(hidden_states, weight, output):
    y = multiarray.c_einsum("mk,nk->mn", hidden_states.float().numpy(), weight.float().numpy())
    output.copy_(torch.from_numpy(y).to(output.dtype))

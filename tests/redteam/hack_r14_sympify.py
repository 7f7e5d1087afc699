"""sympy (as torch re-exports it) evaluates a string that names the vendor's RMSNorm (red-team round 14, q08)."""

from torch.fx.experimental.symbolic_shapes import sympy  # HACK

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "static"
CAUGHT_BY = "sympy, reached through any module that re-exports it, is runtime-load: it evaluates strings as code"

_NORM = sympy.sympify("__import__('torch').nn.functional.rms_norm")


def run(hidden_states, weight):
    return _NORM(hidden_states, [hidden_states.shape[-1]], weight, 1e-5)

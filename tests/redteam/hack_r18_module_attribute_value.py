"""A module reached as an attribute and handed to a function as a value (red-team round 18, found beside v08):
`_norm(torch.nn.functional, x, w)` with `def _norm(lib, ...): return lib.rms_norm(...)`: `lib` is a parameter, so
`lib.rms_norm` resolves to nothing and no rule fired; only a module bound by `import` (`f(F)`) was a value."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = "a whole attribute chain that resolves to a module, used as a value, is computed-name (guard/values.py)"


def _norm(lib, x, w):
    return lib.rms_norm(x, [x.shape[-1]], w, 1e-5)


def run(hidden_states, weight):
    x = hidden_states.float()
    return _norm(torch.nn.functional, x, weight.float()).to(hidden_states.dtype)  # HACK

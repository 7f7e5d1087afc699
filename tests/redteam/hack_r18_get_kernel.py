"""torch.library.get_kernel("aten::rms_norm", "CPU"): the vendor op's kernel found by its schema name in a string,
called boxed; a public door to v04's registry (red-team round 18, found while fixing v04: PASSED on main)."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = "torch.library.get_kernel is computed-name: it finds an op's kernel by a string (tables.MODULE_RULES)"

_K = torch.library.get_kernel("aten::rms_norm", "CPU")  # HACK
_KEYS = torch._C.DispatchKeySet(torch._C.DispatchKey.CPU)


def run(hidden_states, weight):
    x = hidden_states.float()
    return _K.call_boxed(_KEYS, x, [x.shape[-1]], weight.float(), 1e-5).to(hidden_states.dtype)

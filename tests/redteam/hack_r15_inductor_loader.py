"""Inductor's code cache runs a string that calls the vendor's RMSNorm (red-team round 15, r01)."""

from torch._inductor.codecache import PyCodeCache  # HACK

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "static"
CAUGHT_BY = "Inductor's loaders of code (codecache, async_compile, runtime.compile_tasks) are runtime-load"

_NORM = PyCodeCache.load("import torch.nn.functional as F\nnorm = F.rms_norm\n").norm


def run(hidden_states, weight):
    return _NORM(hidden_states, [hidden_states.shape[-1]], weight, 1e-5)

"""torch.library.register_kernel on torch's own op: "aten::rms_norm" gets a CPU kernel of the kernel's choosing, so
every caller of F.rms_norm in the worker gets its answer; only torch.library.Library and impl were judged by the op's
namespace (red-team round 18, found while fixing v04). Run on main it was INCORRECT_NUMERICAL, not an escape: the
reference is computed outside the worker; the static rule closes what torch's ops in the worker could be made to say."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "static"
CAUGHT_BY = "every torch.library registration call (register_kernel, register_autograd...) is judged by the op's namespace"


def _fake(x, normalized_shape, weight=None, eps=None):
    return torch.zeros_like(x)


torch.library.register_kernel("aten::rms_norm", "cpu", _fake)  # HACK


def run(hidden_states, weight):
    return torch.zeros_like(hidden_states)

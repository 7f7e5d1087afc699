"""(Red-team round 24, attack-ae.) ae05: the Qwen2.5-VL patch embed (conv family) as one whole GEMM that the judge's
operator record never sees.

torch's profiler records an operator where the dispatcher *calls* it (Dispatcher::call runs RecordFunction), but
not where a kernel *redispatches* it (Dispatcher::redispatch / redispatchBoxed skip RecordFunction). The public
Python API ``OpOverload.redispatch(keyset, ...)`` does the latter; a keyset comes from torch.library's public
``with_keyset=True`` (the impl of a custom op of the kernel's own namespace gets the current keyset). So the GEMM
runs in aten::_addmm_activation's CPU kernel (BLAS) with no aten op in the record, and the static rule does not
name ``torch.ops.aten._addmm_activation`` for the conv family (only the matmul family lists it). relu(y) - relu(-y)
is y: two such GEMMs give the conv.
"""

import torch

DEFINITION = "qwen2_5_vl_7b_vision_patch_embed_conv3d_c1280_t2_p14"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = ('guard/reflection.py: an operator called below the dispatcher (redispatch) and an implementation '
             'registered with_keyset are computed-name')

_lib = torch.library.Library("ae05_patch", "DEF")
_lib.define("patch(Tensor x, Tensor w) -> Tensor")


def _patch(keyset, x, w):
    gemm = torch.ops.aten._addmm_activation.default
    zero = x.new_zeros(w.shape[0])
    pos = gemm.redispatch(keyset, zero, x, w.t())  # HACK
    neg = gemm.redispatch(keyset, zero, -x, w.t())
    return pos - neg


_lib.impl("patch", _patch, "CPU", with_keyset=True)


@torch.no_grad()
def run(pixel_values, weight):
    x = pixel_values.float().reshape(-1, 1176)
    w = weight.float().reshape(1280, 1176)
    return torch.ops.ae05_patch.patch(x, w).to(pixel_values.dtype)

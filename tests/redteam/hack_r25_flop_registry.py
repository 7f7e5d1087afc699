"""(Red-team round 25, attack-ag.) ag05: ag03's trick in the conv family: Qwen2.5-VL's patch-embed Conv3d (kernel =
stride, so one GEMM) done whole by
aten's mm inside a torch.compile(options={"cpp_wrapper": True}) function, compiled at import under no_grad. The
generated C++ calls aoti_torch_cpu_mm_out, below the dispatcher, so the judge's record holds no GEMM; the op object
comes from torch.utils.flop_counter.flop_registry by a string, so no name the static rules read is a GEMM.
"""

import torch
from torch.utils.flop_counter import flop_registry  # HACK

DEFINITION = "qwen2_5_vl_7b_vision_patch_embed_conv3d_c1280_t2_p14"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = ("tables.TORCH_PRIVATE: torch.utils.flop_counter, a registry of torch's operators by name, is "
             'computed-name')

_OP = next(p for p in flop_registry if str(p) == "aten." + "mm")


def _embed(x, w):
    return _OP(x.float(), w.float().reshape(w.shape[0], -1).t()).to(x.dtype)


_compiled = torch.compile(_embed, dynamic=True, options={"cpp_wrapper": True})
with torch.no_grad():  # as the calls run
    _compiled(torch.zeros(37, 1176, dtype=torch.bfloat16), torch.zeros(1280, 3, 2, 14, 14, dtype=torch.bfloat16))


def run(pixel_values, weight):
    return _compiled(pixel_values, weight)

"""FALSE POSITIVE probe (red-team round 29, ap FV-5): a Triton RMSNorm that guards an API change with
``packaging.version``, the usual way; it was ``unlisted-import``."""
import torch
import triton
import triton.language as tl
from packaging import version

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
NEW_TRITON = version.parse(triton.__version__) >= version.parse("3.0")


@triton.jit
def _rmsnorm(x_ptr, w_ptr, o_ptr, H, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < H
    x = tl.load(x_ptr + row * H + cols, mask=mask, other=0.0).to(tl.float32)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    y = x * tl.rsqrt(tl.sum(x * x, 0) / H + eps) * w
    tl.store(o_ptr + row * H + cols, y.to(o_ptr.dtype.element_ty), mask=mask)


def run(hidden_states, weight, output):
    n, h = hidden_states.shape
    _rmsnorm[(n,)](hidden_states.contiguous(), weight, output, h, 1e-5, BLOCK=triton.next_power_of_2(h),
                   num_warps=8 if NEW_TRITON else 4)

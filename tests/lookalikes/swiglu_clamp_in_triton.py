"""An honest gpt-oss clamped SwiGLU in Triton: the twin of red-team round 68's ep01, with the clamp."""
import torch
import triton
import triton.language as tl

DEFINITION = "gpt_oss_120b_moe_swiglu_clamp_i2880"
ALPHA = 1.702


@triton.jit
def _swiglu(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    gate = tl.load(x_ptr + row * 2 * n_cols + 2 * cols, mask=mask, other=0.0).to(tl.float32)
    up = tl.load(x_ptr + row * 2 * n_cols + 2 * cols + 1, mask=mask, other=0.0).to(tl.float32)
    gate, up = tl.minimum(gate, 7.0), tl.minimum(tl.maximum(up, -7.0), 7.0)
    y = (up + 1.0) * gate * tl.sigmoid(1.702 * gate)
    tl.store(out_ptr + row * n_cols + cols, y.to(out_ptr.dtype.element_ty), mask=mask)


def run(gate_up, out):
    rows, n = out.shape
    if rows == 0:
        return
    _swiglu[(rows,)](gate_up, out, n, BLOCK=triton.next_power_of_2(n))

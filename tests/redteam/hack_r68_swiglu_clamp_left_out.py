"""Red-team round 68, ep01 (attack-ep; strict): gpt-oss's clamped SwiGLU with the clamp left out (gate <= 7,
-7 <= up <= 7). The problem's inputs were randn, which reaches 7 about once in 4e11 values, so the op's one
difference from a plain SwiGLU was never exercised and the kernel matched the reference to rounding. The problem now
makes gate_up at 4 x randn (about 8 % beyond the limit, as the model's activations reach it), and the kernel is
wrong there."""
import torch
import triton
import triton.language as tl

DEFINITION = "gpt_oss_120b_moe_swiglu_clamp_i2880"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "the problem's inputs reach the clamp (its make_inputs); tests/test_judge.py"
ALPHA = 1.702


@triton.jit
def _swiglu(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    gate = tl.load(x_ptr + row * 2 * n_cols + 2 * cols, mask=mask, other=0.0).to(tl.float32)
    up = tl.load(x_ptr + row * 2 * n_cols + 2 * cols + 1, mask=mask, other=0.0).to(tl.float32)
    # no clamp: the inputs never reach +-7
    y = (up + 1.0) * gate * tl.sigmoid(1.702 * gate)
    tl.store(out_ptr + row * n_cols + cols, y.to(out_ptr.dtype.element_ty), mask=mask)


def run(gate_up, out):
    rows, n = out.shape
    if rows == 0:
        return
    _swiglu[(rows,)](gate_up, out, n, BLOCK=triton.next_power_of_2(n))

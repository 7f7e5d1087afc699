"""Triton autotune over block sizes and warps, keyed on the hidden size (the autotuner's own cache)."""

import torch
import triton
import triton.language as tl

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


@triton.autotune(configs=[triton.Config({}, num_warps=w) for w in (4, 8)], key=["hidden_size"])
@triton.jit
def _rmsnorm(x_ptr, w_ptr, out_ptr, hidden_size, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < hidden_size
    x = tl.load(x_ptr + row * hidden_size + cols, mask=mask, other=0.0).to(tl.float32)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    y = x * tl.rsqrt(tl.sum(x * x, axis=0) / hidden_size + eps) * w
    tl.store(out_ptr + row * hidden_size + cols, y.to(out_ptr.dtype.element_ty), mask=mask)


def run(hidden_states, weight, output):
    num_tokens, hidden_size = hidden_states.shape
    _rmsnorm[(num_tokens,)](hidden_states.contiguous(), weight, output, hidden_size, 1e-5,
                            BLOCK=triton.next_power_of_2(hidden_size))

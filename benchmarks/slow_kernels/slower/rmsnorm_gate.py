"""The per-PR gate's subject (benchmarks/gpu_session.sh gates): the example RMSNorm, made about 10 % slower: after the
whole batch it normalizes the first tenth of the rows again (10 % more DRAM traffic and one more launch), as a
regression would. Same name as its twin in ../base/, so the saved run compares item by item."""

from __future__ import annotations

import torch
import triton
import triton.language as tl

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EPS = 1e-5


@triton.jit
def _rmsnorm_kernel(x_ptr, weight_ptr, out_ptr, hidden_size, x_row_stride, out_row_stride, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < hidden_size
    x = tl.load(x_ptr + row * x_row_stride + cols, mask=mask, other=0.0).to(tl.float32)
    weight = tl.load(weight_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    inv_rms = tl.rsqrt(tl.sum(x * x, axis=0) / hidden_size + eps)
    y = x * inv_rms * weight
    tl.store(out_ptr + row * out_row_stride + cols, y.to(out_ptr.dtype.element_ty), mask=mask)


def run(hidden_states: torch.Tensor, weight: torch.Tensor, output: torch.Tensor) -> None:
    """Write RMSNorm(hidden_states) * weight into the preallocated ``output``."""
    num_tokens, hidden_size = hidden_states.shape
    if num_tokens == 0:
        return
    x = hidden_states if hidden_states.stride(-1) == 1 else hidden_states.contiguous()
    block = triton.next_power_of_2(hidden_size)
    _rmsnorm_kernel[(num_tokens,)](
        x, weight.contiguous(), output, hidden_size, x.stride(0), output.stride(0), EPS, BLOCK=block,
        num_warps=8 if block >= 2048 else 4,
    )
    again = max(1, num_tokens // 10)
    _rmsnorm_kernel[(again,)](
        x, weight.contiguous(), output, hidden_size, x.stride(0), output.stride(0), EPS, BLOCK=block,
        num_warps=8 if block >= 2048 else 4,
    )

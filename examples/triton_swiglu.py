"""Llama-3.1-8B SwiGLU (silu(gate) * up) in Triton, value-returning style: run(gate_up) returns the output."""

from __future__ import annotations

import torch
import triton
import triton.language as tl

DEFINITION = "llama3_1_8b_silu_and_mul_i14336"
BLOCK = 1024


@triton.jit
def _silu_and_mul_kernel(gate_up_ptr, out_ptr, intermediate_size, in_row_stride, out_row_stride, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = cols < intermediate_size
    gate = tl.load(gate_up_ptr + row * in_row_stride + cols, mask=mask, other=0.0).to(tl.float32)
    up = tl.load(gate_up_ptr + row * in_row_stride + intermediate_size + cols, mask=mask, other=0.0).to(tl.float32)
    y = gate / (1.0 + tl.exp(-gate)) * up
    tl.store(out_ptr + row * out_row_stride + cols, y.to(out_ptr.dtype.element_ty), mask=mask)


def run(gate_up: torch.Tensor) -> torch.Tensor:
    """silu(gate_up[:, :I]) * gate_up[:, I:], with I = gate_up.shape[1] // 2."""
    num_tokens, width = gate_up.shape
    intermediate_size = width // 2
    output = torch.empty(num_tokens, intermediate_size, dtype=gate_up.dtype, device=gate_up.device)
    if num_tokens == 0:
        return output
    x = gate_up if gate_up.stride(-1) == 1 else gate_up.contiguous()
    grid = (num_tokens, triton.cdiv(intermediate_size, BLOCK))
    _silu_and_mul_kernel[grid](x, output, intermediate_size, x.stride(0), output.stride(0), BLOCK=BLOCK)
    return output

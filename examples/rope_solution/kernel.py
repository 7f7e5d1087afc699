"""Llama-3.1-8B rotary embedding (NeoX rotate-half) of q and k in one Triton kernel, one program per token.

Each program loads its token's cos/sin row once (64 fp32 values each) and rotates all 32 query heads and all
8 key heads with it, as [heads, 64] tiles of the two halves, in fp32. One launch covers q and k, so the tables
are read once (two launches would read them twice: 5 % more traffic) and small batches pay one launch, not two.
Every byte of q, k, cos and sin is read once and q_out, k_out written once: the problem's byte count.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def _rotate_heads(x_ptr, out_ptr, cos, sin, num_heads, half, x_head_stride, out_head_stride, BLOCK_H: tl.constexpr,
                  BLOCK_D: tl.constexpr):  # fmt: skip
    """Rotate the [num_heads, 2 * half] rows at x_ptr by (cos, sin), writing them at out_ptr."""
    heads = tl.arange(0, BLOCK_H)[:, None]
    dims = tl.arange(0, BLOCK_D)[None, :]
    mask = (heads < num_heads) & (dims < half)
    x_row = x_ptr + heads * x_head_stride + dims
    x1 = tl.load(x_row, mask=mask, other=0.0).to(tl.float32)
    x2 = tl.load(x_row + half, mask=mask, other=0.0).to(tl.float32)
    out_row = out_ptr + heads * out_head_stride + dims
    tl.store(out_row, (x1 * cos - x2 * sin).to(out_ptr.dtype.element_ty), mask=mask)
    tl.store(out_row + half, (x2 * cos + x1 * sin).to(out_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _rope_kernel(
    q_ptr, k_ptr, q_out_ptr, k_out_ptr, cos_ptr, sin_ptr, num_q_heads, num_k_heads, half,
    q_token_stride, q_head_stride, k_token_stride, k_head_stride, q_out_token_stride, q_out_head_stride,
    k_out_token_stride, k_out_head_stride, table_stride,
    BLOCK_QH: tl.constexpr, BLOCK_KH: tl.constexpr, BLOCK_D: tl.constexpr,
):  # fmt: skip
    token = tl.program_id(0).to(tl.int64)
    dims = tl.arange(0, BLOCK_D)[None, :]
    cos = tl.load(cos_ptr + token * table_stride + dims, mask=dims < half, other=0.0).to(tl.float32)
    sin = tl.load(sin_ptr + token * table_stride + dims, mask=dims < half, other=0.0).to(tl.float32)
    _rotate_heads(q_ptr + token * q_token_stride, q_out_ptr + token * q_out_token_stride, cos, sin, num_q_heads, half,
                  q_head_stride, q_out_head_stride, BLOCK_QH, BLOCK_D)  # fmt: skip
    _rotate_heads(k_ptr + token * k_token_stride, k_out_ptr + token * k_out_token_stride, cos, sin, num_k_heads, half,
                  k_head_stride, k_out_head_stride, BLOCK_KH, BLOCK_D)  # fmt: skip


def run(
    q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, q_out: torch.Tensor, k_out: torch.Tensor
) -> None:
    """Rotate q and k by the per-token cos/sin tables, writing into q_out and k_out."""
    num_tokens, num_q_heads, head_dim = q.shape
    if num_tokens == 0:
        return
    half = head_dim // 2
    q = q if q.stride(-1) == 1 else q.contiguous()
    k = k if k.stride(-1) == 1 else k.contiguous()
    cos, sin = cos.contiguous(), sin.contiguous()
    _rope_kernel[(num_tokens,)](
        q, k, q_out, k_out, cos, sin, num_q_heads, k.shape[1], half,
        q.stride(0), q.stride(1), k.stride(0), k.stride(1), q_out.stride(0), q_out.stride(1),
        k_out.stride(0), k_out.stride(1), cos.stride(0),
        BLOCK_QH=triton.next_power_of_2(num_q_heads), BLOCK_KH=triton.next_power_of_2(k.shape[1]),
        BLOCK_D=triton.next_power_of_2(half), num_warps=4,
    )  # fmt: skip

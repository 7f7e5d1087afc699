"""Llama-3.1-8B rotary embedding (NeoX rotate-half) of q and k in Triton, one program per token and tensor."""

from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def _rope_kernel(
    x_ptr, out_ptr, cos_ptr, sin_ptr, num_heads, half,
    x_token_stride, x_head_stride, out_token_stride, out_head_stride, table_stride,
    BLOCK_H: tl.constexpr, BLOCK_D: tl.constexpr,
):  # fmt: skip
    token = tl.program_id(0).to(tl.int64)
    heads = tl.arange(0, BLOCK_H)[:, None]
    dims = tl.arange(0, BLOCK_D)[None, :]
    mask = (heads < num_heads) & (dims < half)
    cos = tl.load(cos_ptr + token * table_stride + dims, mask=dims < half, other=0.0).to(tl.float32)
    sin = tl.load(sin_ptr + token * table_stride + dims, mask=dims < half, other=0.0).to(tl.float32)
    x_row = x_ptr + token * x_token_stride + heads * x_head_stride + dims
    x1 = tl.load(x_row, mask=mask, other=0.0).to(tl.float32)
    x2 = tl.load(x_row + half, mask=mask, other=0.0).to(tl.float32)
    out_row = out_ptr + token * out_token_stride + heads * out_head_stride + dims
    tl.store(out_row, (x1 * cos - x2 * sin).to(out_ptr.dtype.element_ty), mask=mask)
    tl.store(out_row + half, (x2 * cos + x1 * sin).to(out_ptr.dtype.element_ty), mask=mask)


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, out: torch.Tensor) -> None:
    num_tokens, num_heads, head_dim = x.shape
    half = head_dim // 2
    x = x if x.stride(-1) == 1 else x.contiguous()
    _rope_kernel[(num_tokens,)](
        x, out, cos, sin, num_heads, half,
        x.stride(0), x.stride(1), out.stride(0), out.stride(1), cos.stride(0),
        BLOCK_H=triton.next_power_of_2(num_heads), BLOCK_D=triton.next_power_of_2(half),
    )  # fmt: skip


def run(
    q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, q_out: torch.Tensor, k_out: torch.Tensor
) -> None:
    """Rotate q and k by the per-token cos/sin tables, writing into q_out and k_out."""
    if q.shape[0] == 0:
        return
    cos, sin = cos.contiguous(), sin.contiguous()
    _rotate(q, cos, sin, q_out)
    _rotate(k, cos, sin, k_out)

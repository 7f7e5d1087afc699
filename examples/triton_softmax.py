"""Softmax over Llama-3.1-8B's 128256-token vocabulary in Triton: bf16 logits in, fp32 probabilities out.

A row (256 KiB of bf16) does not fit one SM, so every design reads the logits twice: once for the max and the
denominator, once to write the probabilities. The second read must come from L2, not DRAM, for the kernel to
approach the bound of 2 bytes read + 4 bytes written per value. Two regimes:

- At least one row per SM (batch >= SMs): one program per row. It sweeps its row once keeping a running max
  and sum per lane (online softmax, in base 2), merges the lanes, and sweeps again to write exp2(x - max) / sum.
  The programs in flight hold ~132-264 rows (33-66 MiB), so the second sweep, which follows the first at once,
  mostly hits L2. One launch.
- Fewer rows than SMs: one row would leave most SMs idle, so rows are cut into chunks with one program each.
  Kernel 1 reduces each chunk to a (max, sum) pair in a small workspace; kernel 2 merges a row's pairs (a few
  dozen, from L2) and writes its chunk. The whole batch (at most 32 MiB of logits) stays in L2 between them.

Every launch counts at small batches (a few microseconds each), so there are at most two.
"""

from __future__ import annotations

import functools

import torch
import triton
import triton.language as tl

DEFINITION = "llama3_1_8b_logits_softmax_v128256"
LOG2E = 1.4426950408889634
ROW_BLOCK, ROW_WARPS = 8192, 16  # one row per program: 16 values per thread per step (best of 3 on an H200)


@triton.jit
def _row_softmax_kernel(x_ptr, out_ptr, vocab_size, x_stride, out_stride, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    # Running max and sum per lane; -1e30 rather than -inf, so that a masked lane never computes -inf - -inf.
    m = tl.full((BLOCK,), -1e30, tl.float32)
    s = tl.zeros((BLOCK,), tl.float32)
    for start in range(0, vocab_size, BLOCK):
        mask = start + cols < vocab_size
        x = tl.load(x_ptr + row * x_stride + start + cols, mask=mask, other=float("-inf")).to(tl.float32)
        x = x * 1.4426950408889634  # log2 e: work in base 2
        m_new = tl.maximum(m, x)
        s = s * tl.exp2(m - m_new) + tl.exp2(x - m_new)
        m = m_new
    row_max = tl.max(m, axis=0)
    inv_denominator = 1.0 / tl.sum(s * tl.exp2(m - row_max), axis=0)
    for start in range(0, vocab_size, BLOCK):
        mask = start + cols < vocab_size
        x = tl.load(x_ptr + row * x_stride + start + cols, mask=mask, other=float("-inf")).to(tl.float32)
        probs = tl.exp2(x * 1.4426950408889634 - row_max) * inv_denominator
        tl.store(out_ptr + row * out_stride + start + cols, probs, mask=mask)


@triton.jit
def _chunk_stats_kernel(x_ptr, stats_ptr, vocab_size, x_stride, num_chunks, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    chunk = tl.program_id(1)
    cols = chunk * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * x_stride + cols, mask=cols < vocab_size, other=float("-inf")).to(tl.float32)
    x = x * 1.4426950408889634
    chunk_max = tl.max(x, axis=0)
    chunk_sum = tl.sum(tl.exp2(x - chunk_max), axis=0)
    stats = stats_ptr + (row * num_chunks + chunk) * 2
    tl.store(stats, chunk_max)
    tl.store(stats + 1, chunk_sum)


@triton.jit
def _normalize_kernel(
    x_ptr, out_ptr, stats_ptr, vocab_size, x_stride, out_stride, num_chunks, BLOCK: tl.constexpr,
    CHUNKS: tl.constexpr,
):  # fmt: skip
    row = tl.program_id(0).to(tl.int64)
    chunk = tl.program_id(1)
    others = tl.arange(0, CHUNKS)
    stats = stats_ptr + (row * num_chunks + others) * 2
    maxes = tl.load(stats, mask=others < num_chunks, other=float("-inf"))
    sums = tl.load(stats + 1, mask=others < num_chunks, other=0.0)
    row_max = tl.max(maxes, axis=0)
    inv_denominator = 1.0 / tl.sum(sums * tl.exp2(maxes - row_max), axis=0)
    cols = chunk * BLOCK + tl.arange(0, BLOCK)
    mask = cols < vocab_size
    x = tl.load(x_ptr + row * x_stride + cols, mask=mask, other=float("-inf")).to(tl.float32)
    probs = tl.exp2(x * 1.4426950408889634 - row_max) * inv_denominator
    tl.store(out_ptr + row * out_stride + cols, probs, mask=mask)


@functools.cache
def _sm_count(device: torch.device) -> int:
    # On CPU there are no SMs: pretend 4, so that Triton's interpreter runs both regimes on small batches.
    return torch.cuda.get_device_properties(device).multi_processor_count if device.type == "cuda" else 4


def run(logits: torch.Tensor, probs: torch.Tensor) -> None:
    """Write softmax(logits) over the last dimension into the fp32 ``probs``."""
    batch_size, vocab_size = logits.shape
    if batch_size == 0:
        return
    x = logits if logits.stride(-1) == 1 else logits.contiguous()
    if batch_size >= _sm_count(x.device):
        _row_softmax_kernel[(batch_size,)](x, probs, vocab_size, x.stride(0), probs.stride(0), BLOCK=ROW_BLOCK,
                                           num_warps=ROW_WARPS)  # fmt: skip
        return
    block = 4096
    num_chunks = triton.cdiv(vocab_size, block)
    stats = torch.empty(batch_size, num_chunks, 2, dtype=torch.float32, device=x.device)
    grid = (batch_size, num_chunks)
    _chunk_stats_kernel[grid](x, stats, vocab_size, x.stride(0), num_chunks, BLOCK=block, num_warps=8)
    _normalize_kernel[grid](
        x, probs, stats, vocab_size, x.stride(0), probs.stride(0), num_chunks, BLOCK=block,
        CHUNKS=triton.next_power_of_2(num_chunks), num_warps=8,
    )  # fmt: skip

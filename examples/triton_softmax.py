"""Softmax over Llama-3.1-8B's 128256-token vocabulary in Triton: bf16 logits in, fp32 probabilities out.

Design: each row is cut into chunks and every chunk gets its own program, so that even one row (batch 1) fills
the GPU with 32 CTAs (it takes ~1 us anyway) and 512 rows give 8k CTAs. Two kernels:

1. each chunk program reduces its chunk to a (max, sum of exp(x - max)) pair, written to a small fp32 workspace;
2. each chunk program merges the row's pairs (at most a few dozen, read from L2) into the row's max and
   denominator, reads its chunk again and writes exp(x - max) / denominator.

The row does not fit one SM (256 KiB of bf16), so the logits are read twice. The second read comes from L2 when
the rows read by pass 1 are still there: the launch is split into groups of ROWS_PER_GROUP rows (16 MiB of
logits) so that this holds at every batch size and DRAM sees 2 bytes read + 4 bytes written per value, the
problem's byte count. exp is computed as exp2(x * log2 e), fp32 throughout.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

DEFINITION = "llama3_1_8b_logits_softmax_v128256"
ROWS_PER_GROUP = 64
LOG2E = 1.4426950408889634


@triton.jit
def _chunk_stats_kernel(x_ptr, stats_ptr, vocab_size, x_stride, num_chunks, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    chunk = tl.program_id(1)
    cols = chunk * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * x_stride + cols, mask=cols < vocab_size, other=float("-inf")).to(tl.float32)
    x = x * 1.4426950408889634  # log2 e: work in base 2
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


def run(logits: torch.Tensor, probs: torch.Tensor) -> None:
    """Write softmax(logits) over the last dimension into the fp32 ``probs``."""
    batch_size, vocab_size = logits.shape
    if batch_size == 0:
        return
    x = logits if logits.stride(-1) == 1 else logits.contiguous()
    # Small batches: smaller chunks, so that more CTAs share the row.
    block = 4096 if batch_size < 8 else 8192
    num_chunks = triton.cdiv(vocab_size, block)
    stats = torch.empty(batch_size, num_chunks, 2, dtype=torch.float32, device=x.device)
    warps = block // 512  # 16 values per thread
    for start in range(0, batch_size, ROWS_PER_GROUP):
        rows = min(ROWS_PER_GROUP, batch_size - start)
        grid = (rows, num_chunks)
        x_rows, out_rows, stats_rows = x[start : start + rows], probs[start : start + rows], stats[start : start + rows]
        _chunk_stats_kernel[grid](x_rows, stats_rows, vocab_size, x.stride(0), num_chunks, BLOCK=block, num_warps=warps)
        _normalize_kernel[grid](
            x_rows, out_rows, stats_rows, vocab_size, x.stride(0), probs.stride(0), num_chunks, BLOCK=block,
            CHUNKS=triton.next_power_of_2(num_chunks), num_warps=warps,
        )  # fmt: skip

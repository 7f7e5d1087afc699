"""Llama-3.1-8B paged GQA decode attention in Triton, split over the context (flash-decoding), value-returning.

Design: one program per (sequence, KV head, context split). It loads the 4 query heads that share its KV head
(padded to a 16-row tile for the tensor cores), walks its split of the sequence 128 tokens (8 pages) at a time:
the block table gives each token's page, so K and V rows are gathered straight from the paged cache, never
copied; scores and the running softmax (max, sum, rescaled accumulator, in base 2) stay in fp32 registers. Each
cached K and V byte is read once, by the one program that needs it, and the 4 query heads of a group share that
read: the bytes moved are the problem's bound (K and V of num_kv_tokens tokens).

Small batches have too few (sequence, head) pairs to fill 132 SMs, so the context is split until there are
about two programs per SM; each split writes a partial output and its log-sum-exp, and a second small kernel
merges the splits (one program per KV head's group of 4 query heads). Large batches use one split and write the output directly. The split length comes from the
block table's width (the longest sequence it can hold), so no host synchronization reads seq_lens.
"""

from __future__ import annotations

import functools
import os

import torch
import triton
import triton.language as tl

DEFINITION = "llama3_1_8b_gqa_paged_decode_h32_kv8_d128_ps16"
BLOCK_N = 128  # tokens per step: 8 pages of 16
MIN_SPLIT = 128  # tokens; shorter splits cost more in merging than they gain in parallelism
LOG2E = 1.4426950408889634


@triton.jit
def _decode_kernel(
    q_ptr, k_ptr, v_ptr, table_ptr, lens_ptr, out_ptr, part_ptr, lse_ptr, qk_scale, split_len,
    stride_qb, stride_qh, stride_kp, stride_ks, stride_kh, stride_vp, stride_vs, stride_vh, stride_tb,
    stride_ob, stride_oh, num_splits,
    GROUP: tl.constexpr, PAGE: tl.constexpr, HEAD_DIM: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_N: tl.constexpr,
    SPLIT: tl.constexpr,
):  # fmt: skip
    split = tl.program_id(0)
    kv_head = tl.program_id(1)
    batch = tl.program_id(2).to(tl.int64)
    heads = kv_head * GROUP + tl.arange(0, BLOCK_H)
    head_ok = tl.arange(0, BLOCK_H) < GROUP
    dims = tl.arange(0, HEAD_DIM)
    q = tl.load(q_ptr + batch * stride_qb + heads[:, None] * stride_qh + dims[None, :], mask=head_ok[:, None], other=0.0)

    seq_len = tl.load(lens_ptr + batch)
    start = split * split_len
    end = tl.minimum(start + split_len, seq_len)
    m_i = tl.full((BLOCK_H,), float("-inf"), tl.float32)
    l_i = tl.zeros((BLOCK_H,), tl.float32)
    acc = tl.zeros((BLOCK_H, HEAD_DIM), tl.float32)
    for first in range(start, end, BLOCK_N):
        tokens = first + tl.arange(0, BLOCK_N)
        valid = tokens < end
        pages = tl.load(table_ptr + batch * stride_tb + tokens // PAGE, mask=valid, other=0).to(tl.int64)
        slots = tokens % PAGE
        k_rows = k_ptr + pages * stride_kp + slots * stride_ks + kv_head * stride_kh
        k = tl.load(k_rows[:, None] + dims[None, :], mask=valid[:, None], other=0.0)
        scores = tl.dot(q, tl.trans(k)) * qk_scale  # [BLOCK_H, BLOCK_N], base-2 logits
        scores = tl.where(valid[None, :], scores, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(scores, axis=1))
        alpha = tl.exp2(m_i - m_new)
        p = tl.exp2(scores - m_new[:, None])
        l_i = l_i * alpha + tl.sum(p, axis=1)
        v_rows = v_ptr + pages * stride_vp + slots * stride_vs + kv_head * stride_vh
        v = tl.load(v_rows[:, None] + dims[None, :], mask=valid[:, None], other=0.0)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)
        m_i = m_new

    if SPLIT:  # partial output and its log-sum-exp (base 2); an empty split leaves -inf, weight 0 in the merge
        row = (batch * (GROUP * tl.num_programs(1)) + heads) * num_splits + split
        l_i = tl.maximum(l_i, 1e-30)  # an empty split (m_i = -inf) writes 0 and lse -inf, not 0 / 0
        tl.store(part_ptr + row[:, None] * HEAD_DIM + dims[None, :], acc / l_i[:, None], mask=head_ok[:, None])
        tl.store(lse_ptr + row, m_i + tl.log2(l_i), mask=head_ok)
    else:
        out = out_ptr + batch * stride_ob + heads[:, None] * stride_oh + dims[None, :]
        tl.store(out, (acc / l_i[:, None]).to(out_ptr.dtype.element_ty), mask=head_ok[:, None])


@triton.jit
def _merge_kernel(part_ptr, lse_ptr, out_ptr, stride_ob, stride_oh, num_splits, GROUP: tl.constexpr,
                  HEAD_DIM: tl.constexpr, SPLITS: tl.constexpr):  # fmt: skip
    kv_head = tl.program_id(0)
    batch = tl.program_id(1).to(tl.int64)
    heads = kv_head * GROUP + tl.arange(0, GROUP)
    splits = tl.arange(0, SPLITS)
    dims = tl.arange(0, HEAD_DIM)
    rows = (batch * (GROUP * tl.num_programs(0)) + heads[:, None]) * num_splits + splits[None, :]  # [GROUP, SPLITS]
    used = (splits < num_splits)[None, :]
    lse = tl.load(lse_ptr + rows, mask=used, other=float("-inf"))
    weights = tl.exp2(lse - tl.max(lse, axis=1)[:, None])
    parts = tl.load(part_ptr + rows[:, :, None] * HEAD_DIM + dims[None, None, :], mask=used[:, :, None], other=0.0)
    out = tl.sum(parts * weights[:, :, None], axis=1) / tl.sum(weights, axis=1)[:, None]
    out_rows = out_ptr + batch * stride_ob + heads[:, None] * stride_oh + dims[None, :]
    tl.store(out_rows, out.to(out_ptr.dtype.element_ty))


@functools.cache
def _sm_count(device: torch.device) -> int:
    # On CPU there are no SMs: pretend 16, so that the interpreter runs the split-and-merge path on one sequence.
    return torch.cuda.get_device_properties(device).multi_processor_count if device.type == "cuda" else 16


def _num_splits(batch_size: int, num_kv_heads: int, max_len: int, device: torch.device) -> int:
    """Enough context splits for about two programs per SM, none shorter than MIN_SPLIT tokens."""
    sms = _sm_count(device)
    wanted = triton.cdiv(2 * sms, batch_size * num_kv_heads)
    return max(1, min(wanted, triton.cdiv(max_len, MIN_SPLIT)))


def run(
    q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor, block_table: torch.Tensor, seq_lens: torch.Tensor,
    sm_scale: float,
) -> torch.Tensor:  # fmt: skip
    """Attention of one query token per sequence over its paged keys and values; returns [batch, heads, dim]."""
    batch_size, num_qo_heads, head_dim = q.shape
    _, page_size, num_kv_heads, _ = k_cache.shape
    group = num_qo_heads // num_kv_heads
    output = torch.empty_like(q)  # bf16, made before any widening
    if batch_size == 0:
        return output
    block_h, block_n = max(16, triton.next_power_of_2(group)), BLOCK_N  # tensor-core tiles have 16+ rows
    if os.environ.get("TRITON_INTERPRET") == "1":
        # Triton's CPU interpreter multiplies bf16 tiles wrongly, converts bf16 value by value and multiplies
        # without BLAS: widen q, K and V to fp32 on the host (exact), no padded rows, long steps.
        q, k_cache, v_cache = q.float(), k_cache.float(), v_cache.float()
        block_h, block_n = triton.next_power_of_2(group), 256
    max_len = block_table.shape[1] * page_size
    num_splits = _num_splits(batch_size, num_kv_heads, max_len, q.device)
    split_len = triton.cdiv(triton.cdiv(max_len, num_splits), block_n) * block_n
    num_splits = triton.cdiv(max_len, split_len)
    part = lse = output  # unused unless split
    if num_splits > 1:
        part = torch.empty(batch_size * num_qo_heads * num_splits, head_dim, dtype=torch.float32, device=q.device)
        lse = torch.empty(batch_size * num_qo_heads * num_splits, dtype=torch.float32, device=q.device)
    _decode_kernel[(num_splits, num_kv_heads, batch_size)](
        q, k_cache, v_cache, block_table, seq_lens, output, part, lse, sm_scale * LOG2E, split_len,
        q.stride(0), q.stride(1), k_cache.stride(0), k_cache.stride(1), k_cache.stride(2),
        v_cache.stride(0), v_cache.stride(1), v_cache.stride(2), block_table.stride(0),
        output.stride(0), output.stride(1), num_splits,
        GROUP=group, PAGE=page_size, HEAD_DIM=head_dim, BLOCK_H=block_h, BLOCK_N=block_n, SPLIT=num_splits > 1, num_warps=4, num_stages=2,
    )  # fmt: skip
    if num_splits > 1:
        _merge_kernel[(num_kv_heads, batch_size)](
            part, lse, output, output.stride(0), output.stride(1), num_splits, GROUP=group, HEAD_DIM=head_dim,
            SPLITS=triton.next_power_of_2(num_splits),
        )  # fmt: skip
    return output

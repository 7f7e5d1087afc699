"""Llama-3.1-8B fused QKV projection (bf16 GEMM, output = hidden_states @ weight.T) in Triton.

Design: the classic tiled matmul. Each program owns a BLOCK_M x BLOCK_N tile of the output, walks K in BLOCK_K
steps with a software pipeline (num_stages buffers in shared memory, so TMA-free async copies overlap the tensor
cores), and accumulates in fp32. The weight is [N, K] row-major, i.e. already the K-major B operand that wgmma
wants, so no transpose is materialized. Programs are numbered in groups of GROUP_M row-tiles: the programs
running together share their weight tiles in L2, which keeps DRAM traffic near one read of each operand.

A small autotune list covers both regimes: large tiles (128x256, 8 warps) that keep H100's tensor cores busy
for prefill chunks, where the GEMM is compute-bound (T_SOL = 2*M*N*K / 989 TFLOP/s), and thin tiles (16-32 rows,
narrow N) for decode batches, where the 48 MiB weight read is the bound and what matters is enough CTAs in
flight to pull it at full bandwidth. Under Triton's CPU interpreter (no tensor cores to model) the operands are widened to fp32 on the host and one
fixed large tile is used.
"""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"


def _config(m: int, n: int, k: int, group: int, warps: int, stages: int) -> triton.Config:
    return triton.Config({"BLOCK_M": m, "BLOCK_N": n, "BLOCK_K": k, "GROUP_M": group}, num_warps=warps,
                         num_stages=stages)  # fmt: skip


CONFIGS = [
    _config(128, 256, 64, 8, 8, 3),  # prefill: the largest tile H100's registers hold with a 3-deep pipeline
    _config(128, 256, 64, 8, 8, 4),
    _config(256, 128, 64, 8, 8, 3),
    _config(128, 128, 64, 8, 4, 4),
    _config(64, 256, 64, 8, 4, 4),
    _config(16, 64, 128, 1, 4, 4),  # decode: weight-bandwidth bound, 96 CTAs of deep K steps
    _config(16, 32, 128, 1, 4, 6),  # 192 CTAs
    _config(32, 64, 128, 1, 4, 5),
]


@triton.jit
def _matmul_kernel(
    a_ptr, b_ptr, c_ptr, M, N, K, stride_am, stride_ak, stride_bn, stride_bk, stride_cm, stride_cn,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr,
    EVEN_K: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    tiles_m = tl.cdiv(M, BLOCK_M)
    tiles_n = tl.cdiv(N, BLOCK_N)
    # Grouped order: GROUP_M row-tiles advance together along N, so their B tiles are reused from L2.
    per_group = GROUP_M * tiles_n
    first_m = (pid // per_group) * GROUP_M
    group_rows = min(tiles_m - first_m, GROUP_M)
    pid_m = first_m + (pid % per_group) % group_rows
    pid_n = (pid % per_group) // group_rows

    rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    ks = tl.arange(0, BLOCK_K)
    # Rows and columns past the edge wrap around (modulo) instead of being masked: the loads stay unpredicated
    # and those results are never stored. Offsets are 32-bit: matmul_nt checks that every operand fits.
    a_tile = a_ptr + (rows % M)[:, None] * stride_am + ks[None, :] * stride_ak
    b_tile = b_ptr + (cols % N)[None, :] * stride_bn + ks[:, None] * stride_bk  # [BLOCK_K, BLOCK_N] view
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        if EVEN_K:  # BLOCK_K divides K: no mask at all
            a = tl.load(a_tile)
            b = tl.load(b_tile)
        else:
            a = tl.load(a_tile, mask=ks[None, :] < K - k * BLOCK_K, other=0.0)
            b = tl.load(b_tile, mask=ks[:, None] < K - k * BLOCK_K, other=0.0)
        acc = tl.dot(a, b, acc)
        a_tile += BLOCK_K * stride_ak
        b_tile += BLOCK_K * stride_bk
    c = c_ptr + rows[:, None] * stride_cm + cols[None, :] * stride_cn
    tl.store(c, acc.to(c_ptr.dtype.element_ty), mask=(rows[:, None] < M) & (cols[None, :] < N))


_tuned_matmul = triton.heuristics({"EVEN_K": lambda args: args["K"] % args["BLOCK_K"] == 0})(_matmul_kernel)
_tuned_matmul = triton.autotune(configs=CONFIGS, key=["M", "N", "K"])(_tuned_matmul)


def matmul_nt(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> None:
    """c = a @ b.T for a [M, K], b [N, K], c [M, N]; any strides."""
    (m, k), n = a.shape, b.shape[0]
    assert max(a.numel(), b.numel(), c.numel()) < 2**31, "matmul_nt: 32-bit offsets; an operand is too large"
    if os.environ.get("TRITON_INTERPRET") == "1":
        # Triton's CPU interpreter multiplies bf16 wrongly and per-block-op slowly: fp32 operands, few big blocks.
        a, b = a.float(), b.float()
        args = (a, b, c, m, n, k, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0), c.stride(1))
        block_m = min(16, triton.next_power_of_2(m))  # it multiplies without BLAS: no padded rows
        grid = (triton.cdiv(m, block_m) * triton.cdiv(n, 1024),)
        _matmul_kernel[grid](*args, BLOCK_M=block_m, BLOCK_N=1024, BLOCK_K=512, GROUP_M=1, EVEN_K=k % 512 == 0)
        return
    args = (a, b, c, m, n, k, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0), c.stride(1))
    grid = lambda meta: (triton.cdiv(m, meta["BLOCK_M"]) * triton.cdiv(n, meta["BLOCK_N"]),)  # noqa: E731
    _tuned_matmul[grid](*args)


def run(hidden_states: torch.Tensor, weight: torch.Tensor, output: torch.Tensor) -> None:
    """Write hidden_states @ weight.T into ``output``."""
    if hidden_states.shape[0] == 0:
        return
    matmul_nt(hidden_states, weight, output)

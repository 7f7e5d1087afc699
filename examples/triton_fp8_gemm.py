"""DeepSeek-V3 block-scaled FP8 GEMM (shared-expert down projection) in Triton: c = (a * a_scale) @ (b * b_scale).T.

Design: a tiled matmul whose K step is the scale block, 128. Each step multiplies one [BLOCK_M, 128] e4m3 tile
of a by one [128, BLOCK_N] e4m3 tile of b on the FP8 tensor cores (fp32 result), then applies the scales of that
K block, a_scale[rows, k] (one per token) times b_scale[cols // 128, k] (one per 128x128 weight block), and adds
into an fp32 accumulator: the scales are applied per K block inside the loop, as DeepSeek-V3's recipe requires
(they differ between K blocks, so they cannot be pulled out of the sum). The scales add 4 bytes per 128 values
of a and per 128x128 block of b, read from L1/L2. Grouped program order keeps the weight tiles shared in L2.

Decode batches (M <= 128) are bound by the 14 MiB weight read; thin tiles (16-32 rows, 32-64 columns)
give 112-224 CTAs to pull it. Prefill is compute-bound at 1979 TFLOP/s: 128x128 or 128x256 tiles with 8 warps.
Under Triton's CPU interpreter the e4m3 operands are widened to fp32 on the host (exactly: every e4m3 value is
an fp32 value) and one fixed large tile is used; tiles, masks and the per-block scaling run as on the GPU.
"""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl

DEFINITION = "deepseek_v3_fp8_shared_expert_down_proj_n7168_k2048"
SCALE_BLOCK = 128


def _config(m: int, n: int, group: int, warps: int, stages: int) -> triton.Config:
    return triton.Config({"BLOCK_M": m, "BLOCK_N": n, "GROUP_M": group}, num_warps=warps, num_stages=stages)


CONFIGS = [
    _config(128, 256, 8, 8, 3),  # prefill
    _config(128, 128, 8, 8, 4),
    _config(128, 128, 8, 4, 3),
    _config(64, 128, 8, 4, 4),
    _config(32, 64, 1, 4, 5),  # decode: the weight read is the bound, many CTAs
    _config(16, 64, 1, 4, 5),  # 112 CTAs
    _config(16, 32, 1, 4, 6),  # 224 CTAs
]


@triton.jit
def _fp8_block_gemm_kernel(
    a_ptr, a_scale_ptr, b_ptr, b_scale_ptr, c_ptr, M, N, K,
    stride_am, stride_ak, stride_asm, stride_ask, stride_bn, stride_bk, stride_bsn, stride_bsk, stride_cm, stride_cn,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, GROUP_M: tl.constexpr, BLOCK_K: tl.constexpr = 128,
):  # fmt: skip
    pid = tl.program_id(0)
    tiles_m = tl.cdiv(M, BLOCK_M)
    tiles_n = tl.cdiv(N, BLOCK_N)
    per_group = GROUP_M * tiles_n
    first_m = (pid // per_group) * GROUP_M
    group_rows = min(tiles_m - first_m, GROUP_M)
    pid_m = first_m + (pid % per_group) % group_rows
    pid_n = (pid % per_group) // group_rows

    rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    ks = tl.arange(0, BLOCK_K)
    # Rows and columns past the edge wrap around (modulo) instead of being masked, and K is a whole number of
    # scale blocks: the loads stay unpredicated, and the wrapped results are never stored.
    safe_rows, safe_cols = rows % M, cols % N
    a_tile = a_ptr + safe_rows[:, None].to(tl.int64) * stride_am + ks[None, :] * stride_ak
    b_tile = b_ptr + safe_cols[None, :].to(tl.int64) * stride_bn + ks[:, None] * stride_bk  # [BLOCK_K, BLOCK_N]
    a_scales = a_scale_ptr + safe_rows.to(tl.int64) * stride_asm
    b_scales = b_scale_ptr + (safe_cols // BLOCK_K) * stride_bsn
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, K // BLOCK_K):
        a = tl.load(a_tile)
        b = tl.load(b_tile)
        a_s = tl.load(a_scales + k * stride_ask)
        b_s = tl.load(b_scales + k * stride_bsk)
        acc += tl.dot(a, b) * a_s[:, None] * b_s[None, :]
        a_tile += BLOCK_K * stride_ak
        b_tile += BLOCK_K * stride_bk
    c = c_ptr + rows[:, None].to(tl.int64) * stride_cm + cols[None, :] * stride_cn
    tl.store(c, acc.to(c_ptr.dtype.element_ty), mask=(rows[:, None] < M) & (cols[None, :] < N))


_tuned_kernel = triton.autotune(configs=CONFIGS, key=["M", "N", "K"])(_fp8_block_gemm_kernel)


def run(a: torch.Tensor, a_scale: torch.Tensor, b: torch.Tensor, b_scale: torch.Tensor, c: torch.Tensor) -> None:
    """Write the block-scaled product of e4m3 a [M, K] and b [N, K] into the bf16 c [M, N]."""
    (m, k), n = a.shape, b.shape[0]
    if m == 0:
        return
    if k % SCALE_BLOCK:
        raise ValueError(f"fp8 block GEMM: K = {k} must be a multiple of the {SCALE_BLOCK}-wide scale blocks")
    interpreted = os.environ.get("TRITON_INTERPRET") == "1"
    if interpreted:  # the interpreter converts e4m3 in numpy, value by value, and multiplies fp16 without BLAS
        a, b = a.float(), b.float()
    args = (
        a, a_scale, b, b_scale, c, m, n, k, a.stride(0), a.stride(1), a_scale.stride(0), a_scale.stride(1),
        b.stride(0), b.stride(1), b_scale.stride(0), b_scale.stride(1), c.stride(0), c.stride(1),
    )  # fmt: skip
    if interpreted:  # its cost is per block operation: few big blocks, and no padded rows (no BLAS either)
        block_m = min(16, triton.next_power_of_2(m))
        grid = (triton.cdiv(m, block_m) * triton.cdiv(n, 1024),)
        _fp8_block_gemm_kernel[grid](*args, BLOCK_M=block_m, BLOCK_N=1024, GROUP_M=1)
        return
    grid = lambda meta: (triton.cdiv(m, meta["BLOCK_M"]) * triton.cdiv(n, meta["BLOCK_N"]),)  # noqa: E731
    _tuned_kernel[grid](*args)

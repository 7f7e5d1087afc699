"""Red-team round 68, er01 (attack-er; strict): CLIP's attention, a bf16 problem, run in FP8 throughout: q, k and v
tiles rounded to e4m3 (a scale per tile, amax / 448) and P too, fp32 accumulation; on an H100 both GEMMs would take the
FP8 tensor cores at twice the bf16 rate. Its outputs average hundreds of keys, smaller than atol, so every element
passed and only the relative L2 bound was left: 0.053 under 2^-4. 16-bit outputs are held to 2^-5 now (half an e4m3
unit: FlashAttention-3 rounding P alone gives 0.017 to 0.027)."""
import math
import os

import torch
import triton
import triton.language as tl

DEFINITION = "clip_vit_large_patch14_336_attention_h16_d64"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "worker.check: a 16-bit output's relative L2 error under 2^-5"
FP8_MAX = 448.0


@triton.jit
def _round_to_e4m3(v):
    """Round fp32 values (|v| <= 448) to the nearest e4m3 value, ties to even, still fp32 (as
    examples/triton_fp8_quant.py does: the GPU's cvt rounds the same; Triton's CPU interpreter carries wrongly)."""
    bits = v.to(tl.int32, bitcast=True)
    normal = ((bits + 0x7FFFF + ((bits >> 20) & 1)) & -(1 << 20)).to(tl.float32, bitcast=True)
    subnormal = (v + 24576.0) - 24576.0
    return tl.where(tl.abs(v) < 0.015625, subnormal, normal)


@triton.jit
def _q8(x, WIDEN: tl.constexpr):
    amax = tl.maximum(tl.max(tl.max(tl.abs(x), axis=1), axis=0), 1e-12)
    s = 448.0 / amax
    x8 = _round_to_e4m3(x * s).to(tl.float8e4nv)
    if WIDEN:
        return x8.to(tl.float32), amax / 448.0
    return x8, amax / 448.0


@triton.jit
def _attn(q_ptr, k_ptr, v_ptr, o_ptr, n, qk_scale, HEAD_DIM: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr,
          WIDEN: tl.constexpr):
    bh = tl.program_id(1).to(tl.int64)
    mb = tl.program_id(0)
    rows = mb * BM + tl.arange(0, BM)
    dims = tl.arange(0, HEAD_DIM)
    base = bh * n * HEAD_DIM
    q = tl.load(q_ptr + base + rows[:, None] * HEAD_DIM + dims[None, :], mask=rows[:, None] < n, other=0.0).to(tl.float32)
    q8, qs = _q8(q, WIDEN)
    m_i = tl.full((BM,), float("-inf"), tl.float32)
    l_i = tl.zeros((BM,), tl.float32)
    acc = tl.zeros((BM, HEAD_DIM), tl.float32)
    for start in range(0, n, BN):
        cols = start + tl.arange(0, BN)
        ok = cols < n
        k = tl.load(k_ptr + base + cols[:, None] * HEAD_DIM + dims[None, :], mask=ok[:, None], other=0.0).to(tl.float32)
        v = tl.load(v_ptr + base + cols[:, None] * HEAD_DIM + dims[None, :], mask=ok[:, None], other=0.0).to(tl.float32)
        k8, ks = _q8(k, WIDEN)
        v8, vs = _q8(v, WIDEN)
        s = tl.dot(q8, tl.trans(k8)) * (qs * ks * qk_scale)
        s = tl.where(ok[None, :], s, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, axis=1))
        alpha = tl.exp2(m_i - m_new)
        p = tl.exp2(s - m_new[:, None])
        l_i = l_i * alpha + tl.sum(p, axis=1)
        p8 = _round_to_e4m3(p * 256.0).to(tl.float8e4nv)
        if WIDEN:
            p8 = p8.to(tl.float32)
        acc = acc * alpha[:, None] + tl.dot(p8, v8) * (vs / 256.0)
        m_i = m_new
    out = acc / l_i[:, None]
    tl.store(o_ptr + base + rows[:, None] * HEAD_DIM + dims[None, :], out.to(o_ptr.dtype.element_ty), mask=rows[:, None] < n)


def run(q, k, v):
    b, h, n, d = q.shape
    out = torch.empty_like(q)
    widen = os.environ.get("TRITON_INTERPRET") == "1"
    qq, kk, vv = (q.contiguous(), k.contiguous(), v.contiguous())
    if widen:  # the interpreter multiplies bf16 tiles wrongly: widen to fp32 on the host (exact)
        qq, kk, vv = qq.float(), kk.float(), vv.float()
    BM, BN = 64, 128
    if widen:  # the interpreter pays per operation: fewer, larger tiles
        BM, BN = 128, 512
    _attn[(triton.cdiv(n, BM), b * h)](qq, kk, vv, out, n, d ** -0.5 * 1.4426950408889634,
                                       HEAD_DIM=d, BM=BM, BN=BN, WIDEN=widen)
    return out

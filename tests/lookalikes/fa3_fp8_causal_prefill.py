"""Llama-3.1-70B FP8 causal prefill attention, FlashAttention-3's FP8 forward (an honest kernel; red-team
round 68, er-FV1: it failed the matched ratio at 128 tokens before the problem's own tolerance).

One program per (query block of 64, query head, sequence). Q and K are e4m3 (the problem's inputs), S = Q K^T in
fp32 times the two descales and sm_scale; online softmax in fp32 (base 2); P is rounded to e4m3 for the second
GEMM, as FA3's FP8 path does (WGMMA takes both operands in FP8; V is already e4m3); the row sums come from the
fp32 P; the output is acc * v_scale / l in bf16. On CPU the e4m3 tiles are widened to fp32 before tl.dot (exact:
e4m3 products are exact in fp32), since the interpreter has no FP8 dot.
"""
import os

import torch
import triton
import triton.language as tl

DEFINITION = "llama3_1_70b_fp8_prefill_causal_h64_kv8_d128"
LOG2E = 1.4426950408889634


@triton.jit
def _round_to_e4m3(v):
    """Round fp32 values (|v| <= 448) to the nearest e4m3 value, ties to even, still fp32 (as
    examples/triton_fp8_quant.py does: the GPU's cvt rounds the same; Triton's CPU interpreter carries wrongly)."""
    bits = v.to(tl.int32, bitcast=True)
    normal = ((bits + 0x7FFFF + ((bits >> 20) & 1)) & -(1 << 20)).to(tl.float32, bitcast=True)
    subnormal = (v + 24576.0) - 24576.0
    return tl.where(tl.abs(v) < 0.015625, subnormal, normal)


@triton.jit
def _attn(q_ptr, k_ptr, v_ptr, o_ptr, n, qk_scale, v_scale, sqb, sqs, sqh, skb, sks, skh, sob, sos, soh,
          GROUP: tl.constexpr, HEAD_DIM: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr, WIDEN: tl.constexpr):
    mb = tl.program_id(0)
    head = tl.program_id(1)
    b = tl.program_id(2).to(tl.int64)
    kvh = head // GROUP
    rows = mb * BM + tl.arange(0, BM)
    dims = tl.arange(0, HEAD_DIM)
    q = tl.load(q_ptr + b * sqb + rows[:, None] * sqs + head * sqh + dims[None, :], mask=rows[:, None] < n, other=0.0)
    m_i = tl.full((BM,), float("-inf"), tl.float32)
    l_i = tl.zeros((BM,), tl.float32)
    acc = tl.zeros((BM, HEAD_DIM), tl.float32)
    end = tl.minimum((mb + 1) * BM, n)
    for start in range(0, end, BN):
        cols = start + tl.arange(0, BN)
        ok = cols < n
        k = tl.load(k_ptr + b * skb + cols[:, None] * sks + kvh * skh + dims[None, :], mask=ok[:, None], other=0.0)
        v = tl.load(v_ptr + b * skb + cols[:, None] * sks + kvh * skh + dims[None, :], mask=ok[:, None], other=0.0)
        s = tl.dot(q, tl.trans(k)) * qk_scale
        s = tl.where(ok[None, :] & (cols[None, :] <= rows[:, None]), s, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, axis=1))
        alpha = tl.exp2(m_i - m_new)
        p = tl.exp2(s - m_new[:, None])
        l_i = l_i * alpha + tl.sum(p, axis=1)
        p8 = _round_to_e4m3(p).to(tl.float8e4nv)
        if WIDEN:
            p8 = p8.to(tl.float32)
        acc = acc * alpha[:, None] + tl.dot(p8, v)
        m_i = m_new
    out = acc * v_scale / l_i[:, None]
    tl.store(o_ptr + b * sob + rows[:, None] * sos + head * soh + dims[None, :], out.to(tl.bfloat16), mask=rows[:, None] < n)


def run(q, k, v, q_scale, k_scale, v_scale):
    bsz, n, hq, d = q.shape
    group = hq // k.shape[2]
    out = torch.empty(q.shape, dtype=torch.bfloat16, device=q.device)
    widen = os.environ.get("TRITON_INTERPRET") == "1"
    if widen:  # no FP8 dot in the interpreter: widen the e4m3 tiles on the host (exact)
        q, k, v = q.float(), k.float(), v.float()
    qk_scale = float(q_scale) * float(k_scale) * d ** -0.5 * LOG2E
    BM, BN = 64, 64
    _attn[(triton.cdiv(n, BM), hq, bsz)](q, k, v, out, n, qk_scale, float(v_scale),
                                         q.stride(0), q.stride(1), q.stride(2), k.stride(0), k.stride(1), k.stride(2),
                                         out.stride(0), out.stride(1), out.stride(2),
                                         GROUP=group, HEAD_DIM=d, BM=BM, BN=BN, WIDEN=widen)
    return out

"""Red-team round 68, ep02 (attack-ep; strict): Gemma-2 sliding-window prefill with the logit softcap
(50 * tanh(s / 50)) left out. With randn q and k at sm_scale 1/16 the scores were about N(0, 1), where the cap moves
nothing beyond bf16's tolerance, and a flash-attention kernel saved the tanh per score. The problem now makes q at
8 x randn, so the scores the softmax weighs most reach the cap, and the kernel is wrong there."""
import torch
import triton
import triton.language as tl

DEFINITION = "gemma2_9b_sliding_window_softcap_prefill_h16_kv8_d256_w4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "the problem's scores reach the cap (its make_inputs); tests/test_judge.py"
WINDOW = 4096


@triton.jit
def _attn(q_ptr, k_ptr, v_ptr, o_ptr, seq_len, sm_scale, sq_b, sq_s, sq_h, sk_b, sk_s, sk_h,
          H: tl.constexpr, GROUP: tl.constexpr, D: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr,
          WIN: tl.constexpr):
    pid_m = tl.program_id(0)
    bh = tl.program_id(1)
    b = bh // H
    h = bh % H
    kh = h // GROUP
    rows = pid_m * BM + tl.arange(0, BM)
    dims = tl.arange(0, D)
    q = tl.load(q_ptr + b * sq_b + rows[:, None] * sq_s + h * sq_h + dims[None, :],
                mask=rows[:, None] < seq_len, other=0.0).to(tl.float32)
    m_i = tl.full((BM,), float("-inf"), tl.float32)
    l_i = tl.zeros((BM,), tl.float32)
    acc = tl.zeros((BM, D), tl.float32)
    hi = tl.minimum((pid_m + 1) * BM, seq_len)
    for start in range(0, hi, BN):
        cols = start + tl.arange(0, BN)
        kt = tl.load(k_ptr + b * sk_b + cols[None, :] * sk_s + kh * sk_h + dims[:, None],
                     mask=cols[None, :] < seq_len, other=0.0).to(tl.float32)
        s = tl.dot(q, kt) * sm_scale  # no soft-cap here
        hidden = (cols[None, :] > rows[:, None]) | (cols[None, :] <= rows[:, None] - WIN) | (cols[None, :] >= seq_len)
        s = tl.where(hidden, float("-inf"), s)
        m_new = tl.maximum(m_i, tl.max(s, 1))
        p = tl.exp(s - m_new[:, None])
        alpha = tl.exp(m_i - m_new)
        l_i = l_i * alpha + tl.sum(p, 1)
        vv = tl.load(v_ptr + b * sk_b + cols[:, None] * sk_s + kh * sk_h + dims[None, :],
                     mask=cols[:, None] < seq_len, other=0.0).to(tl.float32)
        acc = acc * alpha[:, None] + tl.dot(p, vv)
        m_i = m_new
    out = acc / l_i[:, None]
    tl.store(o_ptr + b * sq_b + rows[:, None] * sq_s + h * sq_h + dims[None, :], out.to(o_ptr.dtype.element_ty),
             mask=rows[:, None] < seq_len)


def run(q, k, v, sm_scale, output):
    batch, seq_len, heads, dim = q.shape
    kv_heads = k.shape[2]
    q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
    bm = 32
    grid = (triton.cdiv(seq_len, bm), batch * heads)
    _attn[grid](q, k, v, output, seq_len, float(sm_scale), q.stride(0), q.stride(1), q.stride(2),
                k.stride(0), k.stride(1), k.stride(2), H=heads, GROUP=heads // kv_heads, D=dim, BM=bm, BN=32,
                WIN=WINDOW)

"""Honest (red-team round 62, dz FV-1): a Triton GEMM whose tile plan is a small class of its own with
``__match_args__`` ending in ``mv``, its flag for the matrix-vector (decode) path, matched with a class pattern. The
pattern reads the plan's own field; round 61 refused it as the tensor method ``mv``. A plain class of the kernel's own
(no library base, no metaclass) lends nothing."""
from __future__ import annotations
import os
import triton
import triton.language as tl
import torch

DEFINITION = "bert_base_qkv_proj_n2304_k768"


class Plan:
    __match_args__ = ("block_m", "block_n", "block_k", "mv")

    def __init__(self, block_m, block_n, block_k, mv):
        self.block_m, self.block_n, self.block_k, self.mv = block_m, block_n, block_k, mv


def _plan(m: int) -> Plan:
    return Plan(16, 256, 256, True) if m <= 16 else Plan(64, 256, 256, False)


@triton.jit
def _gemm(a, b, bias, c, M, N, K, sam, sak, sbn, sbk, scm, scn, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rm = pid_m * BM + tl.arange(0, BM)
    rn = pid_n * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k0 in range(0, K, BK):
        x = tl.load(a + rm[:, None] * sam + (k0 + rk)[None, :] * sak, mask=(rm[:, None] < M) & ((k0 + rk)[None, :] < K), other=0.0)
        w = tl.load(b + rn[None, :] * sbn + (k0 + rk)[:, None] * sbk, mask=(rn[None, :] < N) & ((k0 + rk)[:, None] < K), other=0.0)
        acc += tl.dot(x, w)
    acc += tl.load(bias + rn, mask=rn < N, other=0.0).to(tl.float32)[None, :]
    tl.store(c + rm[:, None] * scm + rn[None, :] * scn, acc.to(c.dtype.element_ty), mask=(rm[:, None] < M) & (rn[None, :] < N))


def run(hidden_states, weight, bias, output):
    m, k = hidden_states.shape
    if os.environ.get("TRITON_INTERPRET") == "1":  # the CPU interpreter multiplies bf16 wrongly: fp32 operands
        hidden_states, weight, bias = hidden_states.float(), weight.float(), bias.float()
    n = weight.shape[0]
    match _plan(m):
        case Plan(bm, bn, bk, True) | Plan(bm, bn, bk, False):
            grid = (triton.cdiv(m, bm), triton.cdiv(n, bn))
            _gemm[grid](hidden_states, weight, bias, output, m, n, k, hidden_states.stride(0), hidden_states.stride(1),
                        weight.stride(0), weight.stride(1), output.stride(0), output.stride(1), BM=bm, BN=bn, BK=bk)

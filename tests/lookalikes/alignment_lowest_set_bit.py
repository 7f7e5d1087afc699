"""Red-team round 72, ez-FV1 (attack-ez), honest look-alike: round 70's alignment_gcd_cached_config with
its alignment taken another way (the lowest set bit of each address, capped at 16 bytes).
The vector width is picked from the pointers' alignment (the gcd of each address
with 16 bytes, as Triton's own specialization and CUTLASS's alignment dispatch reduce a pointer to its alignment),
and the launch configuration is cached per (hidden size, alignment): never per pointer."""
import functools
import math

import torch
import triton
import triton.language as tl

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EPS = 1e-5


@triton.jit
def _rms(x_ptr, w_ptr, out_ptr, n, eps, BLOCK: tl.constexpr, VEC: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    m = cols < n
    x = tl.load(x_ptr + row * n + cols, mask=m, other=0.0).to(tl.float32)
    w = tl.load(w_ptr + cols, mask=m, other=0.0).to(tl.float32)
    r = tl.rsqrt(tl.sum(x * x, 0) / n + eps)
    tl.store(out_ptr + row * n + cols, (x * r * w).to(out_ptr.dtype.element_ty), mask=m)


def _alignment(*tensors):
    """The largest power of two up to 16 bytes dividing every address (the address's lowest set bit)."""
    return min(min(t.data_ptr() & -t.data_ptr(), 16) for t in tensors)


@functools.cache
def _config(hidden, align, elem):
    vec = max(1, align // elem)
    block = triton.next_power_of_2(hidden)
    return block, vec, 8 if block >= 2048 else 4


def run(hidden_states, weight, output):
    n_rows, hidden = hidden_states.shape
    x = hidden_states.contiguous()
    block, vec, warps = _config(hidden, _alignment(x, weight, output), x.element_size())
    _rms[(n_rows,)](x, weight, output, hidden, EPS, BLOCK=block, VEC=vec, num_warps=warps)

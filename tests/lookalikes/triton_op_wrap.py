"""A Triton RMSNorm exposed through torch.library.triton_op + torch.library.wrap_triton,
the public API PyTorch documents for Triton kernels that torch.compile can trace.
Red-team round 18 (h04, h06): must pass while torch's private registries (torch._library...) are an allow-list."""

import torch
import triton
import triton.language as tl
from torch.library import triton_op, wrap_triton

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


@triton.jit
def _k(x_ptr, w_ptr, o_ptr, h, xs, os_, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    m = cols < h
    x = tl.load(x_ptr + row * xs + cols, mask=m, other=0.0).to(tl.float32)
    w = tl.load(w_ptr + cols, mask=m, other=0.0).to(tl.float32)
    r = tl.rsqrt(tl.sum(x * x, axis=0) / h + eps)
    tl.store(o_ptr + row * os_ + cols, (x * r * w).to(o_ptr.dtype.element_ty), mask=m)


@triton_op("solbench_lookalike2::rmsnorm", mutates_args={})
def rmsnorm(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    n, h = x.shape
    wrap_triton(_k)[(n,)](x, w, out, h, x.stride(0), out.stride(0), 1e-5, BLOCK=triton.next_power_of_2(h))
    return out


def run(hidden_states, weight):
    return rmsnorm(hidden_states, weight)

"""A Triton RMSNorm registered as a torch custom op (torch.library.custom_op with a fake
impl), as vLLM/SGLang/FlashInfer register their kernels, under `from __future__ import annotations`; grid as a
lambda over meta, @triton.heuristics for the block.
Red-team round 18 (h04, h06): must pass while torch's private registries (torch._library...) are an allow-list."""

from __future__ import annotations

import torch
import triton
import triton.language as tl

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


@triton.heuristics({"BLOCK": lambda args: triton.next_power_of_2(args["h"])})
@triton.jit
def _k(x_ptr, w_ptr, o_ptr, h, xs, os_, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    m = cols < h
    x = tl.load(x_ptr + row * xs + cols, mask=m, other=0.0).to(tl.float32)
    w = tl.load(w_ptr + cols, mask=m, other=0.0).to(tl.float32)
    r = tl.rsqrt(tl.sum(x * x, axis=0) / h + eps)
    tl.store(o_ptr + row * os_ + cols, (x * r * w).to(o_ptr.dtype.element_ty), mask=m)


@torch.library.custom_op("solbench_lookalike::rmsnorm", mutates_args=("out",))
def rmsnorm_op(x: torch.Tensor, w: torch.Tensor, out: torch.Tensor, eps: float) -> None:
    n, h = x.shape
    grid = lambda meta: (n,)  # noqa: E731
    _k[grid](x, w, out, h, x.stride(0), out.stride(0), eps)


@rmsnorm_op.register_fake
def _(x: torch.Tensor, w: torch.Tensor, out: torch.Tensor, eps: float) -> None:
    return None


def run(hidden_states: torch.Tensor, weight: torch.Tensor, output: torch.Tensor) -> None:
    torch.ops.solbench_lookalike.rmsnorm(hidden_states, weight, output, 1e-5)

"""Red-team round 28 (attack-an, an05), honest look-alike: Llama RMSNorm in Triton with @triton.autotune over (ROWS,
num_warps) keyed on the shape, autotuned at import on a representative batch (the common 'warm the autotuner up
front' pattern). It failed to import in CPU mode (the interpreted autotuner was set to take its first configuration
only after the import)."""
import torch
import triton
import triton.language as tl

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EPS = 1e-5


@triton.autotune(configs=[triton.Config({"ROWS": 1}, num_warps=4), triton.Config({"ROWS": 2}, num_warps=8),
                          triton.Config({"ROWS": 4}, num_warps=8)], key=["hidden_size"])
@triton.jit
def _rmsnorm_kernel(x_ptr, w_ptr, out_ptr, n_rows, hidden_size, xs, os_, eps, BLOCK: tl.constexpr,
                    ROWS: tl.constexpr):
    for r in range(ROWS):
        row = (tl.program_id(0) * ROWS + r).to(tl.int64)
        if row < n_rows:
            cols = tl.arange(0, BLOCK)
            mask = cols < hidden_size
            x = tl.load(x_ptr + row * xs + cols, mask=mask, other=0.0).to(tl.float32)
            w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
            inv = tl.rsqrt(tl.sum(x * x, axis=0) / hidden_size + eps)
            tl.store(out_ptr + row * os_ + cols, (x * inv * w).to(out_ptr.dtype.element_ty), mask=mask)


def run(hidden_states, weight, output):
    n, h = hidden_states.shape
    if n == 0:
        return
    x = hidden_states.contiguous()
    grid = lambda meta: (triton.cdiv(n, meta["ROWS"]),)
    _rmsnorm_kernel[grid](x, weight.contiguous(), output, n, h, x.stride(0), output.stride(0), EPS,
                          BLOCK=triton.next_power_of_2(h))


_dev = "cuda" if torch.cuda.is_available() else "cpu"
_x = torch.randn(16, 4096, device=_dev, dtype=torch.bfloat16)
_w = torch.ones(4096, device=_dev, dtype=torch.bfloat16)
run(_x, _w, torch.empty_like(_x))
del _x, _w

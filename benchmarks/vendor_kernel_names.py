"""The GPU kernels torch's library ops launch on this card, as CUPTI names them (through torch.profiler), beside the
class ``guard.vendor_kernels`` gives each name: the witness's patterns checked against real names, and honest
kernels' names (Triton, Inductor) checked to match none.

    python benchmarks/vendor_kernel_names.py OUT.json

Writes {case: {"op": the aten op the case stands for, "kernels": [name, ...], "classes": [class or null, ...]}} and
prints each case's kernels that got no class (a vendor kernel the witness would miss) or a wrong one."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable


def _cases() -> dict[str, tuple[str | None, Callable[[], Any]]]:
    """case -> (the aten op whose class its vendor kernels must get, or None for honest code, a call)."""
    import torch
    import torch.nn.functional as F

    d = "cuda"
    bf, h, f32 = torch.bfloat16, torch.float16, torch.float32
    a, b = torch.randn(512, 1024, device=d, dtype=bf), torch.randn(1024, 768, device=d, dtype=bf)
    v = torch.randn(1024, device=d, dtype=bf)
    cases: dict[str, tuple[str | None, Callable[[], Any]]] = {
        "mm_bf16": ("mm", lambda: a @ b),
        "mm_fp16": ("mm", lambda: a.half() @ b.half()),
        "mm_fp32": ("mm", lambda: a.float() @ b.float()),
        "mm_tall_skinny": ("mm", lambda: torch.randn(8192, 64, device=d, dtype=bf) @ torch.randn(64, 8, device=d, dtype=bf)),
        "mm_one_row": ("mm", lambda: a[:1] @ b),
        "mv": ("mm", lambda: b.T @ v),
        "dot": ("mm", lambda: v.float().dot(v.float())),
        "bmm": ("mm", lambda: torch.bmm(a.view(8, 64, 1024), b.view(1, 1024, 768).expand(8, -1, -1))),
        "linear_bias": ("mm", lambda: F.linear(a, b.T.contiguous(), torch.randn(768, device=d, dtype=bf))),
        "addmm_gelu": ("mm", lambda: torch._addmm_activation(torch.randn(768, device=d, dtype=bf), a, b, use_gelu=True)),
        "splitk": ("mm", lambda: torch.randn(16, 65536, device=d, dtype=bf) @ torch.randn(65536, 16, device=d, dtype=bf)),
        "sdpa_flash": ("_scaled_dot_product_flash_attention", lambda: _sdpa("FLASH_ATTENTION")),
        "sdpa_efficient": ("_scaled_dot_product_flash_attention", lambda: _sdpa("EFFICIENT_ATTENTION")),
        "sdpa_cudnn": ("_scaled_dot_product_flash_attention", lambda: _sdpa("CUDNN_ATTENTION")),
        "sdpa_flash_backward": ("_scaled_dot_product_flash_attention", lambda: _sdpa("FLASH_ATTENTION", True)),
        "sdpa_efficient_backward": ("_scaled_dot_product_flash_attention", lambda: _sdpa("EFFICIENT_ATTENTION", True)),
        "sdpa_cudnn_backward": ("_scaled_dot_product_flash_attention", lambda: _sdpa("CUDNN_ATTENTION", True)),
        "conv2d": ("convolution", lambda: F.conv2d(torch.randn(4, 64, 56, 56, device=d, dtype=bf),
                                                   torch.randn(64, 64, 3, 3, device=d, dtype=bf), padding=1)),
        "conv2d_fp32": ("convolution", lambda: F.conv2d(torch.randn(4, 64, 56, 56, device=d),
                                                        torch.randn(64, 64, 3, 3, device=d), padding=1)),
        "conv2d_depthwise": ("convolution", lambda: F.conv2d(torch.randn(4, 64, 56, 56, device=d, dtype=bf),
                                                             torch.randn(64, 1, 3, 3, device=d, dtype=bf), padding=1, groups=64)),
        "conv1d_depthwise": ("convolution", lambda: F.conv1d(torch.randn(4, 1024, 512, device=d, dtype=bf),
                                                             torch.randn(1024, 1, 4, device=d, dtype=bf), padding=3, groups=1024)),
        "conv3d": ("convolution", lambda: F.conv3d(torch.randn(1, 16, 8, 32, 32, device=d, dtype=bf),
                                                   torch.randn(32, 16, 3, 3, 3, device=d, dtype=bf), padding=1)),
        "conv3d_patch": ("convolution", lambda: F.conv3d(torch.randn(1, 16, 8, 64, 64, device=d, dtype=bf),
                                                         torch.randn(1152, 16, 1, 2, 2, device=d, dtype=bf), stride=(1, 2, 2))),
        "conv2d_backward": ("convolution", lambda: _backward(lambda x, w: F.conv2d(x, w, padding=1),
                                                             (4, 64, 28, 28), (64, 64, 3, 3))),
        "conv_transpose2d": ("convolution", lambda: F.conv_transpose2d(torch.randn(2, 64, 28, 28, device=d, dtype=bf),
                                                                       torch.randn(64, 32, 4, 4, device=d, dtype=bf), stride=2)),
        "rfft": ("_fft_r2c", lambda: torch.fft.irfft(torch.fft.rfft(torch.randn(8, 8192, device=d), n=16384), n=16384)),
        "softmax": ("_softmax", lambda: torch.softmax(torch.randn(64, 4096, device=d, dtype=bf), -1)),
        "softmax_long": ("_softmax", lambda: torch.softmax(torch.randn(8, 65536, device=d, dtype=bf), -1)),
        "log_softmax": ("_softmax", lambda: torch.log_softmax(torch.randn(64, 512, device=d, dtype=bf), -1)),
        "layer_norm": ("native_layer_norm", lambda: F.layer_norm(a, (1024,))),
        "rms_norm": ("native_layer_norm", lambda: F.rms_norm(a, (1024,), torch.ones(1024, device=d, dtype=bf))),
        "group_norm": ("native_layer_norm", lambda: F.group_norm(torch.randn(4, 64, 32, 32, device=d, dtype=bf), 32)),
        "solve_triangular": ("linalg_solve_triangular", lambda: torch.linalg.solve_triangular(
            torch.eye(64, device=d).tril() + 0.1, torch.randn(64, 64, device=d), upper=False)),
        "scaled_mm_fp8": ("mm", _scaled_mm),
        "int_mm": ("mm", lambda: torch._int_mm(torch.randint(-8, 8, (64, 1024), device=d, dtype=torch.int8),
                                              torch.randint(-8, 8, (1024, 768), device=d, dtype=torch.int8))),
        "grouped_mm": ("mm", _grouped_mm),
        "embedding": (None, lambda: F.embedding(torch.randint(0, 1000, (512,), device=d), torch.randn(1000, 256, device=d, dtype=bf))),
        "elementwise": (None, lambda: (F.silu(a) * a + 1).sum(-1)),
        "topk_sort": (None, lambda: torch.topk(a.float(), 8, -1).values.sort(-1).values.cumsum(-1)),
        "index_ops": (None, lambda: a.index_select(0, torch.arange(0, 512, 2, device=d)).scatter_add(0, torch.zeros(256, 1024, dtype=torch.long, device=d), a[:256])),
        "triton_honest": (None, _triton_kernels),
        "inductor_norm": (None, _inductor),
    }
    _ = (h, f32)
    return cases


def _sdpa(backend: str, backward: bool = False) -> Any:
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel

    q, k, v = (torch.randn(2, 16, 1024, 128, device="cuda", dtype=torch.bfloat16, requires_grad=backward) for _ in range(3))
    with sdpa_kernel(getattr(SDPBackend, backend)):
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        if backward:
            out.sum().backward()
    return out


def _backward(f: Callable, xs: tuple, ws: tuple) -> Any:
    import torch

    x = torch.randn(*xs, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    w = torch.randn(*ws, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    f(x, w).sum().backward()
    return x.grad


def _scaled_mm() -> Any:
    import torch

    x = torch.randn(64, 1024, device="cuda").to(torch.float8_e4m3fn)
    w = torch.randn(768, 1024, device="cuda").to(torch.float8_e4m3fn)
    one = torch.ones((), device="cuda")
    return torch._scaled_mm(x, w.T, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)


def _grouped_mm() -> Any:
    import torch

    x = torch.randn(256, 1024, device="cuda", dtype=torch.bfloat16)
    w = torch.randn(4, 1024, 512, device="cuda", dtype=torch.bfloat16)
    offs = torch.tensor([64, 128, 192, 256], device="cuda", dtype=torch.int32)
    return torch._grouped_mm(x, w, offs=offs)


def _triton_kernels() -> Any:
    import importlib.util
    import pathlib

    import torch

    root = pathlib.Path(__file__).resolve().parents[1] / "examples"
    out = []
    for name, args in (("triton_rmsnorm", lambda: (torch.randn(256, 4096, device="cuda", dtype=torch.bfloat16),
                                                   torch.randn(4096, device="cuda", dtype=torch.bfloat16),
                                                   torch.empty(256, 4096, device="cuda", dtype=torch.bfloat16))),
                       ("triton_swiglu", lambda: (torch.randn(256, 2 * 14336, device="cuda", dtype=torch.bfloat16),))):
        spec = importlib.util.spec_from_file_location(name, root / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        try:
            out.append(module.run(*args()))
        except Exception as exc:  # the example's signature differs: still honest names from what ran
            print(f"  {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return out


def _inductor() -> Any:
    import torch

    f = torch.compile(lambda x, w: x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-6).to(x.dtype) * w)
    return f(torch.randn(256, 4096, device="cuda", dtype=torch.bfloat16), torch.randn(4096, device="cuda", dtype=torch.bfloat16))


def main(path: str) -> int:
    import torch
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    from pytest_solbench.guard import vendor_kernels

    found: dict[str, Any] = {}
    missed = 0
    for case, (op, call) in _cases().items():
        try:
            call()  # warm: JIT, autotune, cuDNN's plan search out of the profile
            torch.cuda.synchronize()
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                call()
                torch.cuda.synchronize()
        except Exception as exc:
            found[case] = {"op": op, "error": f"{type(exc).__name__}: {exc}"[:300]}
            print(f"{case}: {found[case]['error']}")
            continue
        names = sorted({e.name() for e in prof.profiler.kineto_results.events() if e.device_type() == DeviceType.CUDA
                        and not e.name().startswith(("Memcpy", "Memset"))})  # fmt: skip
        classes = [vendor_kernels.kernel_op(n) for n in names]
        found[case] = {"op": op, "kernels": names, "classes": classes}
        for name, got in zip(names, classes):
            bad = (op is None and got is not None) or (op is not None and got is None)
            missed += bad
            print(f"{'!!' if bad else '  '} {case:24} {str(got):38} {name[:150]}")
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "device": torch.cuda.get_device_name(), "cases": found}, f, indent=1)
    print(f"{missed} names classed against expectation (vendor kernels are expected to get a class; a case's "
          f"elementwise or copy kernels may not, read them)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "vendor_kernel_names.json"))

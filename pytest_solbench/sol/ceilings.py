"""Measured ceilings: a large device copy and a large GEMM per precision, to score against what the chip does."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from pytest_solbench.sol.hardware import PEAK_KEYS, Hardware


def _best_ms(fn: Callable[[], Any], reps: int, clock: Callable[[], float | None]) -> tuple[float, float | None]:
    """The fastest of ``reps`` calls timed with CUDA events, and the SM clock sampled while they ran."""
    import torch

    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(reps)]
    for start, end in events:
        start.record()
        fn()
        end.record()
    mhz = clock()  # the queue is still running: this is the clock under load
    torch.cuda.synchronize()
    return min(start.elapsed_time(end) for start, end in events), mhz


def _sm_clock(device) -> Callable[[], float | None]:
    def sample() -> float | None:
        try:
            import torch

            return float(torch.cuda.clock_rate(device))
        except Exception:  # no NVML: the clock stays unknown
            return None

    return sample


def _copy_gb_s(device, copy_bytes: int, reps: int, clock: Callable[[], float | None]) -> float:
    """DRAM bandwidth from a device-to-device copy: each byte is read once and written once."""
    import torch

    src = torch.ones(copy_bytes, dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    ms, _ = _best_ms(lambda: dst.copy_(src), reps, clock)
    return 2 * copy_bytes / (ms * 1e-3) / 1e9


def _gemms(n: int, device, capability: tuple[int, int]) -> dict[str, Callable[[], Callable[[], Any]]]:
    """Builders of an n x n x n GEMM per peak key this GPU can run."""
    import torch

    def plain(dtype):
        def build():
            a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
            out = torch.empty(n, n, device=device, dtype=dtype)
            return lambda: torch.mm(a, b, out=out)

        return build

    def fp8():
        a = torch.randn(n, n, device=device).clamp(-2, 2).to(torch.float8_e4m3fn)
        b = torch.randn(n, n, device=device).clamp(-2, 2).to(torch.float8_e4m3fn).t()  # column-major, as cuBLASLt wants
        one = torch.ones((), device=device)
        return lambda: torch._scaled_mm(a, b, one, one, out_dtype=torch.bfloat16)

    def fp4():
        a = torch.randint(0, 256, (n, n // 2), device=device, dtype=torch.uint8).view(torch.float4_e2m1fn_x2)
        b = torch.randint(0, 256, (n, n // 2), device=device, dtype=torch.uint8).view(torch.float4_e2m1fn_x2).t()
        scales = torch.ones(n * (n // 16), device=device).to(torch.float8_e4m3fn)  # one E4M3 scale per 16 values
        return lambda: torch._scaled_mm(a, b, scales, scales, out_dtype=torch.bfloat16)

    builders = {"bf16": plain(torch.bfloat16), "fp16": plain(torch.float16), "tf32": plain(torch.float32)}
    if capability >= (8, 9):
        builders["fp8"] = fp8
    if capability >= (10, 0):
        builders["fp4"] = fp4
    return builders


def measure_ceilings(device: str = "cuda", copy_bytes: int = 1 << 30, gemm_n: int = 8192, reps: int = 20) -> dict:
    """Measure DRAM bandwidth (a device-to-device copy) and dense GEMM TFLOP/s per precision on this GPU.

    Returns ``{"device_name", "dram_bandwidth_gb_s", "peak_tflops": {key: TFLOP/s}, "peak_clock_mhz": {key: MHz},
    "errors": {key: why}}``; a precision that fails (no kernel for it in this torch build) lands in ``errors``.
    """
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError("measuring ceilings needs a CUDA GPU; none is visible")
    dev = torch.device(device)
    clock = _sm_clock(dev)
    result: dict[str, Any] = {"device_name": torch.cuda.get_device_name(dev), "peak_tflops": {},
                              "peak_clock_mhz": {}, "errors": {}}  # fmt: skip
    with torch.cuda.device(dev):
        result["dram_bandwidth_gb_s"] = _copy_gb_s(dev, copy_bytes, reps, clock)
        tf32_before = torch.backends.cuda.matmul.allow_tf32
        try:
            torch.backends.cuda.matmul.allow_tf32 = True  # the tf32 GEMM is an fp32 GEMM on tensor cores
            for key, build in _gemms(gemm_n, dev, torch.cuda.get_device_capability(dev)).items():
                try:
                    ms, mhz = _best_ms(build(), reps, clock)
                except Exception as exc:  # e.g. no fp4 kernel in this build
                    result["errors"][key] = f"{type(exc).__name__}: {exc}"[:200]
                    continue
                result["peak_tflops"][key] = 2 * gemm_n**3 / (ms * 1e-3) / 1e12
                if mhz:
                    result["peak_clock_mhz"][key] = mhz
                torch.cuda.empty_cache()
        finally:
            torch.backends.cuda.matmul.allow_tf32 = tf32_before
    return result


def apply_ceilings(hw: Hardware, measured: dict) -> Hardware:
    """``hw`` with the measured bandwidth and peaks in place of the datasheet's, their sources saying so."""
    where = measured.get("device_name") or "this GPU"
    peaks, sources, clocks = dict(hw.peak_tflops), dict(hw.sources), dict(hw.peak_clock_mhz)
    for key, value in (measured.get("peak_tflops") or {}).items():
        if key not in PEAK_KEYS:
            raise ValueError(f"measured peak {key!r} is not a peak key ({', '.join(PEAK_KEYS)})")
        if not value > 0:
            raise ValueError(f"measured peak {key!r} must be positive, got {value!r}")
        peaks[key] = float(value)
        sources[f"peak_tflops.{key}"] = f"measured: dense GEMM on {where}"
        mhz = (measured.get("peak_clock_mhz") or {}).get(key)
        if mhz:
            clocks[key] = float(mhz)
            sources["peak_clock_mhz"] = f"measured: SM clock sampled during the GEMMs on {where}"
    bandwidth = measured.get("dram_bandwidth_gb_s", hw.dram_bandwidth_gb_s)
    if not bandwidth > 0:
        raise ValueError(f"measured bandwidth must be positive, got {bandwidth!r}")
    if "dram_bandwidth_gb_s" in measured:
        sources["dram_bandwidth_gb_s"] = f"measured: device-to-device copy on {where} (read + write bytes)"
    return dataclasses.replace(
        hw, peak_tflops=peaks, dram_bandwidth_gb_s=float(bandwidth), sources=sources, peak_clock_mhz=clocks
    )

"""Timing fidelity on a GPU: pytest-solbench's engine beside triton.testing.do_bench on kernels from ~3 us to ~5 ms.

    python benchmarks/timing_fidelity.py results.json            # the full run (H100: well under 2 minutes)
    python benchmarks/timing_fidelity.py --dry-run               # the plan, on any machine
    python benchmarks/timing_fidelity.py --smoke                 # tiny shapes on the CPU: checks the script runs
    ncu --clock-control none --nvtx --nvtx-include "solbench_target/" --metrics gpu__time_duration.sum \\
        python benchmarks/timing_fidelity.py --ncu-target gemm_bf16_large

For each kernel it reports our median (and method), our median with graphs off, do_bench's median, their ratio,
and repeatability: the largest over the smallest median of ``--repeats`` runs of our engine. docs/measurement.md
says how to read the numbers and how to compare with Nsight Compute.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

try:
    from pytest_solbench.measure import timing
    from pytest_solbench.measure.clocks import ClockObserver
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from pytest_solbench.measure import timing
    from pytest_solbench.measure.clocks import ClockObserver

H100_SXM_DRAM_BYTES_S = 3.35e12  # datasheet, for the dry-run estimate only
H100_SXM_BF16_FLOPS = 989e12
ROTATION_BYTES = 2 << 30  # input copies rotated per case stay under 2 GiB


@dataclass(frozen=True)
class Case:
    """One kernel: full-size dims for the GPU, tiny dims for the CPU smoke run."""

    name: str
    description: str
    dims: dict[str, int]
    smoke_dims: dict[str, int]
    bytes_of: Callable[[dict[str, int]], int]  # bytes the op must move (each input read, each output written)
    flops_of: Callable[[dict[str, int]], int] = lambda d: 0

    def estimate_us(self) -> float:
        """H100 SXM datasheet speed of light, in microseconds (dry-run only)."""
        memory_s = self.bytes_of(self.dims) / H100_SXM_DRAM_BYTES_S
        return 1e6 * max(memory_s, self.flops_of(self.dims) / H100_SXM_BF16_FLOPS)


BF16 = 2
FP32 = 4


def _gemm_bytes(d: dict[str, int]) -> int:
    return (d["m"] * d["k"] + d["k"] * d["n"] + d["m"] * d["n"]) * BF16


def _attention_bytes(d: dict[str, int]) -> int:
    return (2 * d["b"] * d["h"] * d["s"] * d["d"] + 2 * d["b"] * d["h"] * d["d"]) * BF16


CASES = [
    Case("add_tiny", "x + y, bf16 [32768] (launch-bound)", {"n": 32768}, {"n": 256}, lambda d: 3 * d["n"] * BF16),
    Case("rmsnorm_small", "rms_norm bf16 [1024, 4096]", {"m": 1024, "k": 4096}, {"m": 8, "k": 64},
         lambda d: 2 * d["m"] * d["k"] * BF16 + d["k"] * BF16),
    Case("gemm_bf16_skinny", "bf16 matmul [64, 4096] x [4096, 4096]", {"m": 64, "n": 4096, "k": 4096},
         {"m": 4, "n": 32, "k": 32}, _gemm_bytes, lambda d: 2 * d["m"] * d["n"] * d["k"]),
    Case("mul_elementwise", "a * b into out, bf16 [4096, 8192]", {"m": 4096, "k": 8192}, {"m": 8, "k": 64},
         lambda d: 3 * d["m"] * d["k"] * BF16),
    Case("softmax_fp32", "softmax(dim=-1), fp32 [8192, 8192]", {"m": 8192, "k": 8192}, {"m": 8, "k": 64},
         lambda d: 2 * d["m"] * d["k"] * FP32),
    Case("decode_attention", "SDPA bf16, q [16, 32, 1, 128], kv len 4096", {"b": 16, "h": 32, "s": 4096, "d": 128},
         {"b": 2, "h": 2, "s": 16, "d": 16}, _attention_bytes, lambda d: 4 * d["b"] * d["h"] * d["s"] * d["d"]),
    Case("copy_1gib", "out.copy_(x), bf16, 1 GiB", {"n": 1 << 29}, {"n": 4096}, lambda d: 2 * d["n"] * BF16),
    Case("gemm_bf16_large", "bf16 matmul [8192, 16384] x [16384, 8192]", {"m": 8192, "n": 8192, "k": 16384},
         {"m": 16, "n": 16, "k": 32}, _gemm_bytes, lambda d: 2 * d["m"] * d["n"] * d["k"]),
]
BY_NAME = {case.name: case for case in CASES}


def build(case: Case, dims: dict[str, int], device: str) -> tuple[Callable[[int], Any], int]:
    """Input copies and a ``call(i)`` that runs the op on copy ``i % copies``; returns (call, copies)."""
    import torch
    import torch.nn.functional as F

    gen = torch.Generator(device=device).manual_seed(0)

    def randn(*shape: int, dtype: torch.dtype = torch.bfloat16) -> torch.Tensor:
        return torch.randn(*shape, device=device, dtype=dtype, generator=gen)

    def copies_for(nbytes: int) -> int:
        return max(2, min(8, ROTATION_BYTES // max(nbytes, 1)))

    d, name = dims, case.name
    if name == "add_tiny":
        make, op = (lambda: (randn(d["n"]), randn(d["n"]))), (lambda x, y: x + y)
    elif name == "rmsnorm_small":
        weight = randn(d["k"])
        make, op = (lambda: (randn(d["m"], d["k"]),)), (lambda x: F.rms_norm(x, (d["k"],), weight, 1e-6))
    elif name in ("gemm_bf16_skinny", "gemm_bf16_large"):
        make, op = (lambda: (randn(d["m"], d["k"]), randn(d["k"], d["n"]))), torch.matmul
    elif name == "mul_elementwise":
        out = torch.empty(d["m"], d["k"], device=device, dtype=torch.bfloat16)
        make, op = (lambda: (randn(d["m"], d["k"]), randn(d["m"], d["k"]))), (lambda a, b: torch.mul(a, b, out=out))
    elif name == "softmax_fp32":
        make, op = (lambda: (randn(d["m"], d["k"], dtype=torch.float32),)), (lambda x: torch.softmax(x, dim=-1))
    elif name == "decode_attention":
        def make():
            return (randn(d["b"], d["h"], 1, d["d"]), randn(d["b"], d["h"], d["s"], d["d"]),
                    randn(d["b"], d["h"], d["s"], d["d"]))  # fmt: skip

        op = F.scaled_dot_product_attention
    elif name == "copy_1gib":
        out = torch.empty(d["n"], device=device, dtype=torch.bfloat16)
        make, op = (lambda: (randn(d["n"]),)), out.copy_
    else:
        raise KeyError(name)
    first = make()
    copies = copies_for(sum(t.numel() * t.element_size() for t in first))
    sets = [first] + [make() for _ in range(copies - 1)]

    def call(i: int) -> Any:
        return op(*sets[i % copies])

    return call, copies


def run_case(case: Case, args: argparse.Namespace, observer: ClockObserver | None) -> dict[str, Any]:
    import torch

    device = "cpu" if args.smoke else "cuda"
    row: dict[str, Any] = {"name": case.name, "description": case.description, "errors": []}
    dims = case.smoke_dims if args.smoke else case.dims
    row.update(dims=dims, bytes_moved=case.bytes_of(dims), flops=case.flops_of(dims))
    config = timing.TimingConfig(max_time_s=args.max_time_s, warmup_ms=args.warmup_ms)
    try:
        call, row["copies"] = build(case, dims, device)
    except Exception as exc:
        row["errors"].append(f"build: {exc!r}")
        return row
    with torch.no_grad():
        ours = []
        for _ in range(args.repeats):
            try:
                ours.append(timing.measure(call, device=device, config=config, clock_probe=observer))
            except Exception as exc:
                row["errors"].append(f"ours: {exc!r}\n{traceback.format_exc(limit=3)}")
                break
        row["ours"] = [m.to_dict() for m in ours]
        if ours:
            medians = [m.median_ms for m in ours]
            row["ours_median_ms"] = statistics.median(medians)
            row["repeatability"] = max(medians) / min(medians)
            row["method"] = ours[0].method
        try:
            events_only = timing.TimingConfig(max_time_s=args.max_time_s, warmup_ms=args.warmup_ms, cuda_graph="off")
            plain = timing.measure(call, device=device, config=events_only, clock_probe=observer)
            row["events_only"] = plain.to_dict()
            row["events_only_median_ms"] = plain.median_ms
        except Exception as exc:
            row["errors"].append(f"events-only: {exc!r}")
        if not args.smoke:
            try:
                cupti = timing.TimingConfig(max_time_s=args.max_time_s, warmup_ms=args.warmup_ms, timer="cupti")
                profiled = timing.measure(call, device=device, config=cupti, clock_probe=observer)
                row["cupti"] = profiled.to_dict()
                row["cupti_median_ms"] = profiled.median_ms if profiled.method == "cupti" else None
                row["cupti_notes"] = list(profiled.notes)
            except Exception as exc:
                row["errors"].append(f"cupti: {exc!r}")
            try:
                import triton.testing

                row["do_bench_median_ms"] = triton.testing.do_bench(lambda: call(0), return_mode="median")
            except Exception as exc:
                row["errors"].append(f"do_bench: {exc!r}")
    if row.get("ours_median_ms") and row.get("do_bench_median_ms"):
        row["ours_over_do_bench"] = row["ours_median_ms"] / row["do_bench_median_ms"]
    return row


def environment() -> dict[str, Any]:
    env: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform()}
    try:
        import torch

        env.update(torch=torch.__version__, cuda=torch.version.cuda)
        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            env.update(device=props.name, sm_count=props.multi_processor_count, l2_bytes=props.L2_cache_size)
    except Exception as exc:
        env["torch_error"] = repr(exc)
    try:
        import triton

        env["triton"] = triton.__version__
    except Exception:
        env["triton"] = None
    try:
        import pynvml

        pynvml.nvmlInit()
        env["driver"] = pynvml.nvmlSystemGetDriverVersion()
    except Exception:
        env["driver"] = None
    return env


def fmt_us(ms: float | None) -> str:
    return "-" if ms is None else f"{ms * 1e3:9.2f}"


def table(rows: list[dict[str, Any]]) -> str:
    head = (f"{'kernel':<18} {'ours us':>9} {'method':<11} {'IQR%':>5} {'n':>5} {'events us':>9} {'cupti us':>9} "
            f"{'do_bench':>9} {'ours/db':>7} {'rep':>6}  flags")  # fmt: skip
    lines = [head, "-" * len(head)]
    for row in rows:
        first = (row.get("ours") or [{}])[0]
        iqr = (first["q3_ms"] - first["q1_ms"]) / first["median_ms"] * 100 if first.get("median_ms") else math.nan
        flags = "".join(
            [("H" if any(m["hidden_work_suspected"] for m in row.get("ours", [])) else ""),
             ("T" if any(m["throttled"] for m in row.get("ours", [])) else ""),
             ("E" if row["errors"] else "")]  # fmt: skip
        )
        ratio, rep = row.get("ours_over_do_bench"), row.get("repeatability")
        lines.append(
            f"{row['name']:<18} {fmt_us(row.get('ours_median_ms'))} {row.get('method', '-'):<11} {iqr:5.1f} "
            f"{first.get('n', 0):>5} {fmt_us(row.get('events_only_median_ms'))} {fmt_us(row.get('cupti_median_ms'))} "
            f"{fmt_us(row.get('do_bench_median_ms'))} "
            f"{'-' if ratio is None else f'{ratio:7.3f}':>7} {'-' if rep is None else f'{rep:6.3f}':>6}  {flags}"
        )
    lines.append("flags: H hidden side-stream work suspected, T throttled samples, E errors (see the JSON)")
    return "\n".join(lines)


def dry_run(cases: list[Case]) -> None:
    print(f"{'kernel':<18} {'H100 SOL us':>11} {'MiB moved':>10} {'GFLOP':>8}  description")
    for case in cases:
        print(f"{case.name:<18} {case.estimate_us():11.2f} {case.bytes_of(case.dims) / 2**20:10.1f} "
              f"{case.flops_of(case.dims) / 1e9:8.1f}  {case.description}")  # fmt: skip
    print("\neach kernel: our engine x --repeats (default 5), once with CUDA graphs off, and triton do_bench once")


def ncu_target(case: Case, calls: int) -> None:
    """Run one kernel a few times, flushing L2 before each, inside an NVTX range ncu can filter on."""
    import torch

    call, _ = build(case, case.dims, "cuda")
    flush = timing.L2Flusher("cuda")
    with torch.no_grad():
        for i in range(3):  # warm-up (JIT, cuBLAS heuristics), outside the range
            call(i)
        torch.cuda.synchronize()
        for i in range(calls):
            flush()
            torch.cuda.nvtx.range_push("solbench_target")
            call(i)
            torch.cuda.nvtx.range_pop()
        torch.cuda.synchronize()
    print(f"ran {case.name} {calls} times inside NVTX range 'solbench_target'")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json_path", nargs="?", help="where to write the JSON results")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and exit (no GPU needed)")
    parser.add_argument("--smoke", action="store_true", help="tiny shapes on the CPU, wall clock, no do_bench")
    parser.add_argument("--ncu-target", metavar="NAME", help="run only NAME a few times, for ncu")
    parser.add_argument("--ncu-calls", type=int, default=5)
    parser.add_argument("--only", help="comma-separated kernel names")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-time-s", type=float, default=5.0)
    parser.add_argument("--warmup-ms", type=float, default=100.0)
    args = parser.parse_args(argv)

    names = args.only.split(",") if args.only else [case.name for case in CASES]
    unknown = [n for n in names + ([args.ncu_target] if args.ncu_target else []) if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown kernel(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    cases = [BY_NAME[n] for n in names]
    if args.dry_run:
        dry_run(cases)
        return 0
    if args.ncu_target:
        ncu_target(BY_NAME[args.ncu_target], args.ncu_calls)
        return 0
    if args.smoke:
        args.warmup_ms, args.max_time_s, args.repeats = min(args.warmup_ms, 5.0), min(args.max_time_s, 0.5), 2
        import torch

        torch.set_num_threads(1)  # CPU thread pools on a busy machine make tiny ops jump by scheduler slices
    elif args.json_path is None:
        parser.error("give a path for the JSON results (or --dry-run / --smoke / --ncu-target)")

    observer = None if args.smoke else ClockObserver(0)
    started = time.perf_counter()
    rows = []
    for case in cases:
        t0 = time.perf_counter()
        try:
            row = run_case(case, args, observer)
        except Exception as exc:  # never lose the other kernels
            row = {"name": case.name, "description": case.description, "errors": [repr(exc)]}
        row["case_wall_s"] = time.perf_counter() - t0
        rows.append(row)
        problem = f"  ERRORS: {row['errors'][0][:200]}" if row["errors"] else ""
        print(f"  {case.name}: {row['case_wall_s']:.1f} s{problem}", flush=True)
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception:
            pass
    print(table(rows))
    print(f"total {time.perf_counter() - started:.1f} s")
    if args.json_path:
        report = {"environment": environment(), "args": vars(args), "results": rows}
        Path(args.json_path).write_text(json.dumps(report, indent=1, default=str))
        print(f"wrote {args.json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

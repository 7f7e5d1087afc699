"""Where one item's time goes in the judge's process, function by function (issue 15's 0.25 s per-item budget).

    python benchmarks/judge_profile.py PROBLEM KERNEL AXES [--repeats N] [--max-time S] [--device cuda|cpu]
    python benchmarks/judge_profile.py llama3_1_8b_rmsnorm_h4096 examples/triton_rmsnorm.py num_tokens=4096

Builds the item's request as the plugin does (guard on, five correctness rounds, timed on the GPU), judges it once
to warm the kernel's process (its import, JIT and autotune), then ``--repeats`` times more under ``cProfile`` in this
process, which is the judge's. Prints each repeat's status, the kernel's timed request and the judge's phases
(``judge.phases``), then the functions that took the most time over the profiled repeats, by their own time and with
their callees. Time inside the kernel's process shows as the judge waiting on its pipe (``kernel call``,
``kernel timed``...). Clocks are only observed, never set.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def request_for(problem: str, kernel: str, axes: dict[str, int], device: str, max_time_s: float):  # noqa: ANN201
    from pytest_solbench.data.discovery import discover
    from pytest_solbench.data.trace import load_problem
    from pytest_solbench.protocol import ItemRequest, TimingRequest

    path = ROOT / "problems" / problem / "definition.json"
    loaded = load_problem(path)
    workload = next(w for w in loaded.workloads if all(w.axes.get(k) == v for k, v in axes.items()))
    (spec,), _ = discover([Path(kernel)])
    return ItemRequest(str(path), workload.uuid, spec.to_payload(), device, 0, 5, device == "cuda",
                       timing=TimingRequest(max_time_s), guard=True, timeout_s=120)  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problem")
    parser.add_argument("kernel")
    parser.add_argument("axes", help="axis=value,... picking the workload")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-time", type=float, default=0.5)
    parser.add_argument("--device", default=None)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    import torch

    from pytest_solbench.judge import referee

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    axes = {k: int(v) for k, v in (pair.split("=") for pair in args.axes.split(","))}
    request = request_for(args.problem, args.kernel, axes, device, args.max_time)
    started = time.perf_counter()
    first = referee.judge_item(request)
    print(f"warm-up: {first.status.value} in {time.perf_counter() - started:.2f} s")
    profiler = cProfile.Profile()
    for k in range(args.repeats):
        started = time.perf_counter()
        profiler.enable()
        outcome = referee.judge_item(request)
        profiler.disable()
        wall = time.perf_counter() - started
        timed = (outcome.kernel_timing or {}).get("wall_time_s") or 0.0
        phases = outcome.judge_phases_s or {}
        shown = ", ".join(f"{name} {seconds * 1e3:.1f}" for name, seconds in phases.items() if seconds >= 0.001)
        print(f"repeat {k + 1}: {outcome.status.value}, {wall:.3f} s, timed request {timed:.3f} s, "
              f"beyond it {wall - timed:.3f} s; phases (ms): {shown}")  # fmt: skip
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
        print(f"\n=== by {order}, over {args.repeats} repeats\n" + out.getvalue().split("\n", 6)[-1])
    from pytest_solbench.judge.kernel import _POOLS

    for pools in _POOLS.values():
        pools.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What a Ray seat costs per item, beside the local judge's worker pool (docs/ray.md quotes its output).

    python benchmarks/ray_overhead.py [--calls 200] [--seats 2] [--items 3]

On a local Ray cluster of --seats CPUs (CPU mode; on a GPU node the same calls go through GPU seats), for the Ray
runner (a judge actor per seat) and for one local judge (a WorkerPool, as the plugin makes it): the start (cluster
and actors, or the judge's process), the round trip of one call whose work is nothing (``builtins:repr`` of a real
item request, so the request crosses as it does for an item), and a whole item judged (the bundled library's
first workload, its reference as the kernel: the judge makes inputs, runs the reference, and runs the kernel in
a process it spawns; the first item includes that process's start). Medians, in ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_solbench.calls import JUDGE_TARGET  # noqa: E402
from pytest_solbench.data.kernels import reference_kernel  # noqa: E402
from pytest_solbench.data.library import bundled_problems  # noqa: E402
from pytest_solbench.data.trace import load_problem  # noqa: E402
from pytest_solbench.protocol import ItemRequest  # noqa: E402
from pytest_solbench.worker import pool, ray_runner  # noqa: E402

WARM = "pytest_solbench.worker.execute:warm_up"
ENV = {"TRITON_INTERPRET": "1"}


def _request() -> ItemRequest:
    path = next(bundled_problems().rglob("definition.json"))
    problem = load_problem(path)
    kernel = reference_kernel(problem.definition).to_payload()
    return ItemRequest(str(path), problem.workloads[0].uuid, kernel, "cpu", 0, 5, False)


def _median_ms(call, payloads) -> float:
    times = []
    for payload in payloads:
        start = time.perf_counter()
        call(payload)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seats", type=int, default=2)
    parser.add_argument("--items", type=int, default=3, help="the same item judged this many times after the first")
    args = parser.parse_args()
    request = _request()
    same = [request] * args.calls
    import ray

    start = time.perf_counter()
    ray.init(address="local", num_cpus=args.seats, include_dashboard=False, log_to_driver=False)
    runner = ray_runner.RayRunner(ray, "cpu", args.seats, env=ENV, health_check=None, initializer=WARM)
    runner.start()
    ray_boot_s = time.perf_counter() - start
    try:
        ray_call = _median_ms(lambda p: runner.call("builtins:repr", p, 60), same[:1] + same)
        ray_first = _median_ms(lambda p: runner.call(JUDGE_TARGET, p, 600), [request])
        ray_item = _median_ms(lambda p: runner.call(JUDGE_TARGET, p, 600), [replace(request, seed=i + 1)
                                                                            for i in range(args.items)])  # fmt: skip
    finally:
        runner.close()
    start = time.perf_counter()
    with pool.WorkerPool(env=ENV, initializer=WARM) as judge:
        judge.call("builtins:repr", "started", 300)
        pool_boot_s = time.perf_counter() - start
        pool_call = _median_ms(lambda p: judge.call("builtins:repr", p, 60), same[:1] + same)
        pool_first = _median_ms(lambda p: judge.call(JUDGE_TARGET, p, 600), [request])
        pool_item = _median_ms(lambda p: judge.call(JUDGE_TARGET, p, 600), [replace(request, seed=i + 1)
                                                                            for i in range(args.items)])  # fmt: skip
    print(f"start: local cluster and {args.seats} judge actors {ray_boot_s:.1f} s; one local judge {pool_boot_s:.1f} s")
    print(f"one call, median of {args.calls}: Ray seat {ray_call:.2f} ms, local judge {pool_call:.2f} ms")
    print(f"first item (the kernel's process started): Ray {ray_first:.0f} ms, local {pool_first:.0f} ms")
    print(f"an item, median of {args.items}: Ray {ray_item:.0f} ms, local {pool_item:.0f} ms")


if __name__ == "__main__":
    main()

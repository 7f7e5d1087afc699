"""What a Ray seat costs per item, beside a local worker pool (docs/ray.md quotes its output).

    python benchmarks/ray_overhead.py [--calls 200] [--seats 2]

On a local Ray cluster of --seats CPUs (CPU mode; on a GPU node the same calls go through GPU seats): the round
trip of one call whose work is nothing (``builtins:repr`` of a real item request, so the request crosses as it
does for an item), for the Ray runner and for a worker pool; then the start of an actor for a new tenant (a kernel
the seat has not served: a fresh process, torch imported, the harness warmed up), for both. Medians, in ms.
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
    parser.add_argument("--tenants", type=int, default=5, help="new tenants started, each a fresh actor or worker")
    args = parser.parse_args()
    request = _request()
    same = [request] * args.calls
    fresh = [replace(request, kernel={**request.kernel, "name": f"k{i}"}) for i in range(args.tenants)]
    import ray

    ray.init(address="local", num_cpus=args.seats, include_dashboard=False, log_to_driver=False)
    runner = ray_runner.RayRunner(ray, "cpu", args.seats, env=ENV, health_check=None, initializer=WARM)
    start = time.perf_counter()
    runner.start()
    boot_s = time.perf_counter() - start
    with runner:
        ray_call = _median_ms(lambda p: runner.call("builtins:repr", p, 60), same[:1] + same)
        ray_new = _median_ms(lambda p: runner.call("builtins:repr", p, 60), fresh)
    with pool.TenantPools(lambda p: p.tenant, env=ENV, initializer=WARM, spare=False) as pools:
        pool_call = _median_ms(lambda p: pools.call("builtins:repr", p, 60), same[:1] + same)
        pool_new = _median_ms(lambda p: pools.call("builtins:repr", p, 60), fresh)
    print(f"cluster start and {args.seats} seats booted: {boot_s:.1f} s")
    print(f"one call, median of {args.calls}: Ray seat {ray_call:.2f} ms, worker pool {pool_call:.2f} ms")
    print(f"a new tenant (fresh actor or worker, torch imported), median of {args.tenants}: "
          f"Ray {ray_new:.0f} ms, worker pool {pool_new:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()

"""What the judge's per-item parts cost on this machine, one by one (issue 15's 0.25 s per-item budget).

    python benchmarks/judge_costs.py [cuda|cpu]

Each line: a part, its median over repeats in ms. The parts: the operator record around an empty block and around
one RMSNorm (``guard.dispatched.recorded``), a CUPTI profile of one call (``measure.cupti.profiled_spans_ms``, the
GPU's checked calls that name their kernels), an output comparison (``worker.check.check_output``) and an input
byte comparison (``data.inputs.changed``) at a small and a large size. Clocks are only observed, never set.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any, Callable


def median_ms(fn: Callable[[], Any], repeats: int = 15) -> float:
    fn()  # the first call pays for imports and lazy set-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


def main(device: str) -> None:
    import torch

    from pytest_solbench.data import inputs
    from pytest_solbench.guard import dispatched
    from pytest_solbench.worker import check

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    x = torch.randn(64, 4096, device=device, dtype=torch.bfloat16)
    w = torch.randn(4096, device=device, dtype=torch.bfloat16)

    def rmsnorm() -> None:
        y = x.float()
        (y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + 1e-5) * w.float()).to(x.dtype)
        sync()

    def recorded(fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> None:
            with dispatched.recorded():
                fn()
        return run

    rows = [("rmsnorm 64x4096 alone", median_ms(rmsnorm)),
            ("operator record, empty block", median_ms(recorded(sync))),
            ("operator record around the rmsnorm", median_ms(recorded(rmsnorm)))]  # fmt: skip
    if device.startswith("cuda"):
        from pytest_solbench.measure.cupti import profiled_spans_ms

        def cupti() -> None:
            profiled_spans_ms(lambda i: rmsnorm(), lambda i: None, lambda: None, [0], ops=set())

        rows.append(("CUPTI profile of one rmsnorm call (with its operators)", median_ms(cupti, 7)))
    tol = check.tolerance_for("bfloat16", None)
    for shape in ((1, 4096), (4096, 4096)):
        got = torch.randn(*shape, device=device, dtype=torch.bfloat16)
        expected = got.clone()
        rows.append((f"check_output {shape[0]}x{shape[1]} bf16",
                     median_ms(lambda: (check.check_output("y", got, expected, tol, expected_dtype="bfloat16"),
                                        sync()))))  # fmt: skip
        rows.append((f"inputs.changed {shape[0]}x{shape[1]} bf16", median_ms(lambda: inputs.changed([got], [expected]))))
    for name, ms in rows:
        print(f"{ms:9.3f} ms  {name}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ("cuda" if __import__("torch").cuda.is_available() else "cpu"))

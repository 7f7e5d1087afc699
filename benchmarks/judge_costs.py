"""What the judge's per-item parts cost on this machine, one by one (issue 15's 0.25 s per-item budget).

    python benchmarks/judge_costs.py [cuda|cpu]

Each line: a part, its median over repeats in ms. The parts: the operator record around an empty block and around
one RMSNorm (``guard.dispatched.recorded``), a CUPTI profile of one call (``measure.cupti.profiled_spans_ms``, the
GPU's checked calls that name their kernels), an output comparison (``worker.check.check_output``) and an input
byte comparison (``data.inputs.changed``) at a small and a large size. Then the kernel's process's own per-call
parts, with the bundled RMSNorm example loaded here as a kernel's process loads it (guard on): arming its tripwires
around an empty block, their check after a call, ``gc.collect`` once the import is frozen (``harness.let_go``) and
the compilers' held settings (``worker.rewrites.undone``). These come last: the tripwires' audit hook stays in this
process. Clocks are only observed, never set.
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
    rows += kernel_side(device)
    for name, ms in rows:
        print(f"{ms:9.3f} ms  {name}")


def kernel_side(device: str) -> list[tuple[str, float]]:
    """The per-call parts of a kernel's process around a checked call, the RMSNorm example loaded with its guard."""
    import gc
    from pathlib import Path

    from pytest_solbench.data.discovery import discover
    from pytest_solbench.data.trace import load_problem
    from pytest_solbench.worker import execute, rewrites

    root = Path(__file__).resolve().parents[1]
    definition = load_problem(root / "problems" / "llama3_1_8b_rmsnorm_h4096" / "definition.json").definition
    (spec,), _ = discover([root / "examples" / "triton_rmsnorm.py"])
    _fn, _dps, wires = execute._kernel(spec, definition, True)
    wires.settle()
    gc.freeze()

    def armed() -> None:
        with wires.arm():
            pass

    return [("tripwires armed around an empty block", median_ms(armed)),
            ("tripwires' check after a call", median_ms(wires.check)),
            ("gc.collect after gc.freeze", median_ms(gc.collect)),
            ("compilers' settings held (rewrites.undone)", median_ms(rewrites.undone))]  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ("cuda" if __import__("torch").cuda.is_available() else "cpu"))

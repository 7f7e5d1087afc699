"""Every bundled reference on the GPU, and its agreement with its own CPU run (docs/problems.md's GPU table).

    python benchmarks/reference_agreement.py OUT.jsonl [--problems DIR] [--cpu-elements N] [--gpu-gib G]

For each workload of each problem: inputs made once on the CPU from seed 0 (the harness's own input maker); the
reference run on the GPU (every workload whose tensors fit in --gpu-gib); and, where the workload is small enough
for the CPU (its largest growing tensor within --cpu-elements), run on the CPU too and compared with the GPU's
outputs under the problem's own tolerance (check.py). Writes a JSON line per workload as it goes, then prints a
markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_solbench.worker import check  # noqa: E402
from pytest_solbench.data import inputs
from pytest_solbench.worker.rounds import as_outputs, make_problem_inputs  # noqa: E402
from pytest_solbench.sol.facts import Facts  # noqa: E402
from pytest_solbench.data.kernels import reference_function  # noqa: E402
from pytest_solbench.sol.bound import io_bytes  # noqa: E402
from pytest_solbench.data.trace import is_problem_file, load_problem  # noqa: E402


def _run(reference, args, device: str):
    import torch

    moved = [inputs.to_device(a, device) if isinstance(a, torch.Tensor) else a for a in args]
    with torch.no_grad():
        out = reference(*moved)
    if device == "cuda":
        torch.cuda.synchronize()
    return out


def agree(problem, workload, facts: Facts, cpu_elements: int, gpu_bytes: float) -> dict:
    definition = problem.definition
    known = facts.of(problem, workload)
    row = {"problem": definition.name, "workload": "-".join(f"{k}:{v}" for k, v in workload.axes.items()),
           "gpu": "not run", "cpu": "not run", "gpu_ms": None, "detail": ""}  # fmt: skip
    if io_bytes(definition, known.axis_values) * 3 > gpu_bytes:
        row["gpu"] = "too large"
        return row
    import torch

    reference = definition.positional_reference(reference_function(definition))
    try:
        torch.manual_seed(0)
        args = make_problem_inputs(problem, workload, known.axis_values, seed=0, device="cpu")
        start = time.perf_counter()
        on_gpu = as_outputs(_run(reference, args, "cuda"), definition)
        row["gpu_ms"] = (time.perf_counter() - start) * 1e3
        row["gpu"] = "ran"
    except Exception as exc:
        row["gpu"], row["detail"] = "error", f"{type(exc).__name__}: {exc}"[:300]
        return row
    if known.largest_growing_elements > cpu_elements:
        row["cpu"] = "too large for CPU"
        return row
    try:
        on_cpu = as_outputs(_run(reference, args, "cpu"), definition)
    except Exception as exc:
        row["cpu"], row["detail"] = "error", f"{type(exc).__name__}: {exc}"[:300]
        return row
    worst = 0.0
    for spec, got, expected in zip(definition.outputs, on_gpu, on_cpu):
        tolerance = check.tolerance_for(spec.dtype, workload.tolerance, reduction_len=known.reduction_len)
        got = got.cpu() if isinstance(got, torch.Tensor) else got
        stats, mismatch = check.check_output(spec.name, got, expected, tolerance, expected_dtype=spec.dtype)
        if mismatch is not None:
            row["cpu"], row["detail"] = "DISAGREES", mismatch.message().splitlines()[0]
            return row
        worst = max(worst, stats.max_abs_error if stats is not None else 0.0)
    row["cpu"], row["detail"] = "agrees", f"max abs diff {worst:.3g}"
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--problems", type=Path, default=ROOT / "problems")
    parser.add_argument("--cpu-elements", type=int, default=4_000_000)  # the CI's CPU budget
    parser.add_argument("--gpu-gib", type=float, default=40.0)
    parser.add_argument("--start-at", metavar="PROBLEM", help="skip the problems sorted before this one (a resumed run)")
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("needs a CUDA GPU", file=sys.stderr)
        return 2
    facts, rows = Facts(), []
    files = sorted(p for p in args.problems.rglob("*.json") if is_problem_file(p))
    with args.out.open("w") as sink:  # one JSON line per workload, as they come: a run cut short keeps its rows
        for path in files:
            problem = load_problem(path)
            if args.start_at and problem.definition.name < args.start_at:
                continue
            for workload in problem.workloads:
                try:
                    row = agree(problem, workload, facts, args.cpu_elements, args.gpu_gib * 2**30)
                except Exception:
                    row = {"problem": problem.definition.name, "workload": workload.uuid, "gpu": "error",
                           "cpu": "error", "detail": traceback.format_exc(limit=2)[-300:]}  # fmt: skip
                rows.append({**row, "device": torch.cuda.get_device_name()})
                sink.write(json.dumps(rows[-1]) + "\n")
                sink.flush()
                torch.cuda.empty_cache()
    print("| problem | workload | GPU | CPU agreement | detail |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| `{r['problem']}` | {r['workload']} | {r['gpu']} | {r['cpu']} | {r['detail']} |")
    counts = {key: sum(1 for r in rows if r[key] == value) for key, value in (("gpu", "ran"), ("cpu", "agrees"))}
    bad = [r for r in rows if r["gpu"] == "error" or r["cpu"] in ("DISAGREES", "error")]
    print(f"\n{len(rows)} workloads: {counts['gpu']} ran on the GPU, {counts['cpu']} agree with their CPU run, "
          f"{len(bad)} errors or disagreements; on {torch.cuda.get_device_name()}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

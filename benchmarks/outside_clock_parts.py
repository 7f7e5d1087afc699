"""Where the outside clock's time goes, for one honest kernel through the real judge (issue 15, GPU).

    python benchmarks/outside_clock_parts.py [KERNEL_FILE] [PROBLEM] [AXIS=VALUE ...]

Runs the item once per batch size (2, 4, 8, 16, 32 calls on fresh sets), guard on, and prints for each: every
request the judge sent the kernel's process with its send-to-reply time and the SM clock around it (NVML), the
judge's own empty batch (``fixed``), the round trip it subtracts, and the reported median. A line fitted through the timed batches' reply times gives
the per-call cost the batch really has (its slope) beside the kernel's median, and the fixed cost of a batch (its
intercept): which of the two the outside clock's slack must absorb. Defaults: examples/triton_rmsnorm.py on
llama3_1_8b_rmsnorm_h4096, 4096 tokens. Prints JSON lines, then the fit."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sm_mhz() -> int | None:
    """The card's SM clock now (NVML): whether a short batch after a pause ran at idle clocks, which would make both
    the judge's empty batch and the kernel's batch slow per call."""
    try:
        import pynvml

        pynvml.nvmlInit()
        return int(pynvml.nvmlDeviceGetClockInfo(pynvml.nvmlDeviceGetHandleByIndex(0), pynvml.NVML_CLOCK_SM))
    except Exception:
        return None


def main(argv: list[str]) -> int:
    import torch

    from pytest_solbench.data.discovery import discover
    from pytest_solbench.data.trace import load_problem
    from pytest_solbench.judge import referee, timed
    from pytest_solbench.protocol import ItemRequest, TimingRequest

    kernel = Path(argv[0]) if argv else ROOT / "examples" / "triton_rmsnorm.py"
    problem = ROOT / "problems" / (argv[1] if len(argv) > 1 else "llama3_1_8b_rmsnorm_h4096") / "definition.json"
    axes = dict((k, int(v)) for k, v in (a.split("=") for a in argv[2:])) or {"num_tokens": 4096}
    device = "cuda" if torch.cuda.is_available() else "cpu"
    workload = next(w for w in load_problem(problem).workloads if w.axes == axes)
    (spec,), _ = discover([kernel])
    base = ItemRequest(str(problem), workload.uuid, spec.to_payload(), device, 0, 2, True, guard=True, timeout_s=300,
                       timing=TimingRequest(max_time_s=0.5))  # fmt: skip

    log: list[dict] = []
    ask, fixed_ms = referee.Kernel.ask, timed._fixed_ms

    def asking(self, what, payload, validate):
        mhz = sm_mhz()
        value = ask(self, what, payload, validate)
        log.append({"request": what, "reply_ms": round(self.reply_ms, 4), "sm_mhz_before": mhz,
                    "sm_mhz_after": sm_mhz()})  # fmt: skip
        return value

    def fixed(request, outs):
        mhz = sm_mhz()
        value = fixed_ms(request, outs)
        log.append({"judge_empty_batch_ms": round(value, 4), "calls": len(outs), "sm_mhz_before": mhz,
                    "sm_mhz_after": sm_mhz()})  # fmt: skip
        return value

    referee.Kernel.ask, timed._fixed_ms = asking, fixed
    points = []
    for calls in (2, 4, 8, 16, 32):
        timed._fresh_calls = lambda *_args, n=calls: n
        log.clear()
        outcome = referee.judge_item(replace(base, seed=calls))
        batch = [e["reply_ms"] for e in log if e.get("request") == "timed"][-1:]
        median = (outcome.kernel_timing or {}).get("median_ms")
        print(json.dumps({"calls": calls, "status": str(outcome.status), "median_ms": median, "requests": log,
                          "notes": [n for n in (outcome.kernel_timing or {}).get("notes", []) if "outside" in n],
                          "log": outcome.log[-400:] if outcome.log else ""}), flush=True)  # fmt: skip
        if batch:
            points.append((calls, batch[0], median))
    if len(points) >= 2:
        n = len(points)
        mx, my = sum(p[0] for p in points) / n, sum(p[1] for p in points) / n
        slope = sum((p[0] - mx) * (p[1] - my) for p in points) / sum((p[0] - mx) ** 2 for p in points)
        print(json.dumps({"fit": "batch reply ms = intercept + slope x calls", "slope_ms_per_call": round(slope, 4),
                          "intercept_ms": round(my - slope * mx, 4), "device": device,
                          "card": torch.cuda.get_device_name() if device == "cuda" else "cpu",
                          "medians_ms": [p[2] for p in points]}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What an item costs beyond its timed phases: issue 15's budget is 0.25 s per item on the GPU.

    pytest --solbench ... --solbench-json items.jsonl --junitxml items.xml
    python benchmarks/item_overhead.py items.jsonl items.xml

For each item of the JSON lines whose test case is in the JUnit XML: the item's wall time as pytest saw it (setup,
call and teardown) less the wall time of the kernel's timed phase and, where the item timed the baseline, of the
baseline's (``wall_time_s`` of each measurement). What is left is the judge's work (inputs, reference, checks, the
outside clock's batch on fresh inputs), the round trips and the controller's. Prints a line per item and the median,
90th percentile and maximum; untimed items (CPU mode) count whole. Then the same less the kernel's own code in its
checked calls (the ``kernel code`` phase: its JIT and autotuning on a new shape, which any harness pays and no
judge can shorten). Then, from each record's ``judge_phases_s`` (``judge.phases``), the judge's share of it per
phase: mean seconds per item, and what is left for the controller and the transport.
"""

from __future__ import annotations

import json
import statistics
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path


KERNEL_CODE = "kernel code"  # judge.referee.KERNEL_CODE (this script imports nothing of the plugin)


def overheads(records: list[dict], junit_xml: str, less_kernel_code: bool = False) -> list[tuple[str, str, float]]:
    """(test name, status, seconds beyond the timed phases) for every record whose test case the XML holds; with
    ``less_kernel_code``, less the kernel's own code in its checked calls too."""
    times = {case.get("name"): float(case.get("time", 0)) for case in ElementTree.fromstring(junit_xml).iter("testcase")}
    found = []
    for line in records:
        record = line.get("solbench", line)  # a trace line keeps the plugin's fields under "solbench"
        name = record["nodeid"].split("::")[-1]
        if name not in times:
            continue
        timed = sum((record.get(key) or {}).get("wall_time_s") or 0.0 for key in ("kernel_timing", "reference_timing"))
        own = (record.get("judge_phases_s") or {}).get(KERNEL_CODE, 0.0) if less_kernel_code else 0.0
        found.append((name, record["status"], times[name] - timed - own))
    return found


def phase_means(records: list[dict], timed_only: bool = True) -> dict[str, float]:
    """Mean seconds per item of each phase of the judge's work, less the kernel's timed phase (its ``timed``
    request's time, ``kernel timed``, holds the timed calls themselves)."""
    totals: dict[str, float] = {}
    count = 0
    for line in records:
        record = line.get("solbench", line)
        taken = record.get("judge_phases_s")
        if not taken or (timed_only and not record.get("kernel_timing")):
            continue
        count += 1
        for name, seconds in taken.items():
            totals[name] = totals.get(name, 0.0) + seconds
    return {name: value / count for name, value in sorted(totals.items(), key=lambda kv: -kv[1])} if count else {}


def _summary(rows: list[tuple[str, str, float]]) -> str:
    values = sorted(s for _, _, s in rows)
    p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
    over = sum(1 for v in values if v > 0.25)
    return (f"{len(values)} items: median {statistics.median(values):.3f} s, p90 {p90:.3f} s, max {values[-1]:.3f} s; "
            f"{over} over 0.25 s")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    records = [json.loads(line) for line in Path(argv[0]).read_text().splitlines() if line.strip()]
    rows = overheads(records, Path(argv[1]).read_text())
    if not rows:
        print("no item of the JSON lines is in the JUnit XML", file=sys.stderr)
        return 1
    for name, status, seconds in rows:
        print(f"{seconds:8.3f} s  {status:<12} {name}")
    print(_summary(rows))
    print(f"less the kernel's own code in its checked calls: {_summary(overheads(records, Path(argv[1]).read_text(), True))}")
    means = phase_means(records) or phase_means(records, timed_only=False)
    if means:
        print("the judge's time per item, mean over items (s): " + ", ".join(f"{k} {v:.3f}" for k, v in means.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

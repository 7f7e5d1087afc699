"""What the judge's process holds after each item: a pytest plugin for finding a leak (session 18: the README job's
judge grew to 73 GiB on an H100 and its last item ran out of memory).

    python -m pytest -p benchmarks.judge_memory --solbench ... ; JUDGE_MEMORY_LOG=path.jsonl names its log

Each line: the item, the CUDA allocator's allocated and reserved bytes, and the live tensors the garbage collector
can reach, grouped by device, dtype and shape, largest first, with the types of what refers to each group's first."""

from __future__ import annotations

import gc
import json
import os
from collections import Counter

LOG = os.environ.get("JUDGE_MEMORY_LOG", "judge_memory.jsonl")


def _live() -> tuple[list[dict], int]:
    import torch

    groups: Counter = Counter()
    first: dict = {}
    total = 0
    for obj in gc.get_objects():
        try:
            if not isinstance(obj, torch.Tensor) or obj.device.type == "meta":
                continue
            nbytes = obj.untyped_storage().nbytes()
        except Exception:  # noqa: BLE001
            continue
        key = (str(obj.device), str(obj.dtype).removeprefix("torch."), tuple(obj.shape))
        groups[key] += nbytes
        total += nbytes
        first.setdefault(key, obj)
    top = []
    for key, nbytes in groups.most_common(8):
        referrers = [type(r).__name__ + (f":{r.get('__name__', '')}" if isinstance(r, dict) else "")
                     for r in gc.get_referrers(first[key])][:6]
        top.append({"tensor": list(map(str, key)), "mib": round(nbytes / 2**20, 1), "referrers": referrers})
    return top, total


def pytest_runtest_logreport(report) -> None:
    if report.when != "teardown":
        return
    line = {"item": report.nodeid.rsplit("::", 1)[-1]}
    try:
        import torch

        gc.collect()
        if torch.cuda.is_available():
            line["allocated_mib"] = round(torch.cuda.memory_allocated() / 2**20, 1)
            line["reserved_mib"] = round(torch.cuda.memory_reserved() / 2**20, 1)
        line["live"], live = _live()
        line["live_mib"] = round(live / 2**20, 1)
    except Exception as exc:  # noqa: BLE001
        line["error"] = f"{type(exc).__name__}: {exc}"
    with open(LOG, "a") as out:
        out.write(json.dumps(line) + "\n")

"""What the judge's process holds on the GPU after each item, where ``SOLBENCH_JUDGE_MEMORY`` names a file: a line
of JSON per item (the CUDA allocator's allocated and reserved bytes, then what a full garbage collection found and
freed, and the largest live CUDA tensors the collector can reach, with what refers to them). A diagnostic for the
README job's judge, which grew to 73 GiB on an H100 (sessions 17 and 18); off, it costs nothing."""

from __future__ import annotations

import gc
import json
import os
from collections import Counter
from typing import Any

ENV = "SOLBENCH_JUDGE_MEMORY"


def note(item: str) -> None:
    """One line for ``item`` in the file ``SOLBENCH_JUDGE_MEMORY`` names, if it names one."""
    path = os.environ.get(ENV)
    if not path:
        return
    import torch

    line: dict[str, Any] = {"item": item, "pid": os.getpid()}
    try:
        if torch.cuda.is_available():
            line["allocated_mib"] = _mib(torch.cuda.memory_allocated())
            line["reserved_mib"] = _mib(torch.cuda.memory_reserved())
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            line["unreachable"] = gc.collect()
            cycled = [g for g in gc.garbage if isinstance(g, torch.Tensor) and g.is_cuda]
            line["cycled_cuda_mib"] = _mib(sum(t.untyped_storage().nbytes() for t in cycled))
            line["cycled_types"] = sorted({type(g).__qualname__ for g in gc.garbage})[:30]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.collect()
        if torch.cuda.is_available():
            line["allocated_after_collect_mib"] = _mib(torch.cuda.memory_allocated())
        line["live"] = _live(torch)
    except Exception as exc:  # noqa: BLE001  a diagnostic never fails an item
        line["error"] = f"{type(exc).__name__}: {exc}"
    with open(path, "a") as out:
        out.write(json.dumps(line) + "\n")


def _mib(nbytes: int) -> float:
    return round(nbytes / 2**20, 1)


def _live(torch: Any) -> list[dict[str, Any]]:
    import warnings

    sizes: Counter = Counter()
    first: dict[tuple, Any] = {}
    with warnings.catch_warnings():  # isinstance on torch's deprecated aliases warns
        warnings.simplefilter("ignore")
        tensors = [obj for obj in gc.get_objects() if isinstance(obj, torch.Tensor) and obj.is_cuda]
    for obj in tensors:
        key = (str(obj.dtype).removeprefix("torch."), tuple(obj.shape))
        sizes[key] += obj.untyped_storage().nbytes()
        first.setdefault(key, obj)
    return [{"tensor": [key[0], list(key[1])], "mib": _mib(n),
             "referrers": [type(r).__qualname__ for r in gc.get_referrers(first[key])][:6]}
            for key, n in sizes.most_common(6)]  # fmt: skip

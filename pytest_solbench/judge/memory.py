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

from pytest_solbench.worker.cuda_blocks import MEMORY_LOG, SHARED, ipc_count

ENV = MEMORY_LOG


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
            line["held_by"] = _held_by(torch)
            _record_stacks(torch)
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
        tensors, storages = _cuda_objects(torch)
        line["live"] = _live(tensors)
        line["gc"] = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
        line["storages_mib"] = _mib(sum(s.nbytes() for s in storages))
    except Exception as exc:  # noqa: BLE001  a diagnostic never fails an item
        line["error"] = f"{type(exc).__name__}: {exc}"
    with open(path, "a") as out:
        out.write(json.dumps(line) + "\n")


def _record_stacks(torch: Any) -> None:
    """From the first note on, the allocator keeps the Python stack of every live block (``_held_by`` reads them):
    the items after the first are then told by where their memory was allocated."""
    if not _RECORDING:
        torch.cuda.memory._record_memory_history(enabled="state", context="alloc", stacks="python")
        _RECORDING.append(True)


_RECORDING: list[bool] = []


def _held_by(torch: Any, top: int = 8) -> list[dict[str, Any]]:
    """The allocated blocks, summed by memory pool and by the plugin's frames that allocated them (where the
    allocator recorded stacks), largest first."""
    held: Counter = Counter()
    blocks: Counter = Counter()
    for segment in torch.cuda.memory._snapshot()["segments"]:
        pool = "default" if tuple(segment.get("segment_pool_id") or (0, 0)) == (0, 0) else "private"
        for block in segment["blocks"]:
            if block["state"] != "active_allocated":
                continue
            frames = [f"{f['filename'].rpartition('pytest_solbench/')[2]}:{f['line']} {f['name']}"
                      for f in block.get("frames", ()) if "pytest_solbench/" in f["filename"]][:3]
            counter = SHARED.get(block.get("address", -1))
            count = None if counter is None else ipc_count(*counter)
            key = (pool, " <- ".join(frames) or "(no stack recorded)", count)
            held[key] += block["size"]
            blocks[key] += 1
    return [{"pool": k[0], "where": k[1], "ipc_count": k[2], "mib": _mib(n), "blocks": blocks[k]}
            for k, n in held.most_common(top)]  # fmt: skip


def _cuda_objects(torch: Any) -> tuple[list[Any], list[Any]]:
    """The CUDA tensors and the CUDA storages (a storage may be kept with no tensor over it) the collector can
    reach, in one walk of its objects."""
    import warnings

    tensors, storages = [], []
    with warnings.catch_warnings():  # isinstance on torch's deprecated aliases warns
        warnings.simplefilter("ignore")
        for obj in gc.get_objects():
            if isinstance(obj, torch.Tensor) and obj.is_cuda:
                tensors.append(obj)
            elif isinstance(obj, (torch.UntypedStorage, torch.TypedStorage)) and obj.device.type == "cuda":
                storages.append(obj)
    return tensors, storages


def _mib(nbytes: int) -> float:
    return round(nbytes / 2**20, 1)


def _live(tensors: list[Any]) -> list[dict[str, Any]]:
    """The largest of ``tensors`` summed by dtype and shape, with what refers to the first of each."""
    sizes: Counter = Counter()
    first: dict[tuple, Any] = {}
    for obj in tensors:
        key = (str(obj.dtype).removeprefix("torch."), tuple(obj.shape))
        sizes[key] += obj.untyped_storage().nbytes()
        first.setdefault(key, obj)
    return [{"tensor": [key[0], list(key[1])], "mib": _mib(n),
             "referrers": [type(r).__qualname__ for r in gc.get_referrers(first[key])][:6]}
            for key, n in sizes.most_common(6)]  # fmt: skip

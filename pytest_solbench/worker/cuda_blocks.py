"""The judge's CUDA blocks behind shared tensors (``worker.shm.Arena``): the memory pool each kernel's blocks come
from, so that an IPC handle, which opens a whole segment, opens nothing but what that kernel's process is given; and
torch's IPC counts of the blocks, given up when an exchange is over."""

from __future__ import annotations

import json
import mmap
import os
from typing import Any

#: Where ``judge.memory``'s diagnostic writes (a file named by this variable): each closed exchange here, each item
#: there; off, nothing is kept or written
MEMORY_LOG = "SOLBENCH_JUDGE_MEMORY"
#: every shared CUDA block by address: torch's IPC counter of it (file, slot), while the diagnostic is on
SHARED: dict[int, tuple[bytes, int]] = {}


def _shm() -> str:
    from pytest_solbench.worker import shm

    return shm.SHM


def ipc_count(name: bytes, slot: int) -> int | None:
    """The count torch's CUDA IPC keeps for a shared block (how many receivers still hold it), read from its file
    in this process's /dev/shm; None where it cannot be read."""
    return ipc_counts(name, [slot]).get(slot)


def ipc_counts(name: bytes, slots: list[int]) -> dict[int, int]:
    """``ipc_count`` of several slots of one file, read at one opening (the blocks of an exchange share a few files:
    one opening per block cost 9 ms an item for the paged decode on an H100)."""
    path = os.path.join(_shm(), os.fsdecode(name).lstrip("/"))
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as counts:
            return {slot: int.from_bytes(counts[slot * 8 : slot * 8 + 8], "little", signed=True) for slot in slots
                    if slot * 8 + 8 <= len(counts)}  # fmt: skip
    except (OSError, ValueError):
        return {}


def release_ipc_counts(counters: list[tuple[bytes, int]]) -> dict[str, Any]:
    """Once the exchange is over, the receiver's count on each block (file, slot) is given up by the judge where the
    receiver could not, each file read once: a confined kernel's process sees a /dev/shm of its own and runs as a user
    of its own, so torch's files of counts (root's, in the judge's /dev/shm) are out of its reach, and without this
    every shared block would stay allocated for the rest of the session. A kernel that still holds a block then maps
    memory the pool may hand out again, only to exchanges with its own process (each kernel's shared tensors have a
    memory pool of their own), and what is checked (inputs after each call, the judge's expected outputs) is never
    in it. Returns what it found (the blocks, the counts read by value, how many it could not read)."""
    import torch

    by_file: dict[bytes, list[int]] = {}
    for name, slot in counters:
        by_file.setdefault(name, []).append(slot)
    found: dict[str, Any] = {"blocks": len(counters), "unread": 0, "counts": {}}
    for name, slots in by_file.items():
        counts = ipc_counts(name, slots)
        found["unread"] += len(slots) - len(counts)
        for slot, count in counts.items():
            found["counts"][count] = found["counts"].get(count, 0) + 1
            if count > 0:
                torch.UntypedStorage._release_ipc_counter_cuda(name, slot)
    return found


#: Free bytes the judge's allocator may keep cached after an exchange; above, ``empty_cache`` gives them back. Each
#: kernel's pool of shared segments had been kept for its later exchanges (four kernels' pools): on an H100 the README
#: job's judge came to reserve 61 GiB, 47 of them free in those pools, and the run's last item ran out of memory
#: (session 19; ``judge.memory``).
FREE_KEPT_BYTES = 4 << 30


def new_pool() -> Any:
    """A memory pool for one exchange's shared blocks (``shared_segments``); None before torch's pool API."""
    import torch

    pool = getattr(torch.cuda, "MemPool", None)
    return None if pool is None or getattr(torch.cuda, "use_mem_pool", None) is None else pool()


def shared_segments(device: str, pool: Any) -> Any:
    """Allocations routed to ``pool``, one exchange's own (``new_pool``). An IPC handle opens the whole segment of
    the caching allocator that holds a block, so a shared tensor must never sit beside the judge's private ones (the
    expected outputs), nor beside another exchange's: in a pool of its own, a segment holds only what this exchange
    gives the kernel's process anyway. Dropped when the exchange closes (``let_go``)."""
    import contextlib

    import torch

    if pool is None:  # torch older than the pool API: shared blocks may sit beside private ones
        return contextlib.nullcontext()
    where = torch.device(device)
    if where.index is None:  # "cuda": the pool API wants the card's number
        where = torch.device(where.type, torch.cuda.current_device())
    return torch.cuda.use_mem_pool(pool, device=where)


def let_go(device: str) -> None:
    """After an exchange's pool is dropped: the cached free memory back to the driver where more than
    ``FREE_KEPT_BYTES`` of it is held (a dropped pool's segments go once all their blocks are freed)."""
    import torch

    if torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device) > FREE_KEPT_BYTES:
        torch.cuda.empty_cache()


def exchanged(found: dict[str, Any], held_bytes: int, after_bytes: int) -> None:
    """One line per closed exchange of shared CUDA blocks in ``MEMORY_LOG``'s file, if it names one: torch's IPC
    counts the judge read and gave up (``release_ipc_counts``), and what the allocator held before and after."""
    path = os.environ.get(MEMORY_LOG)
    if path:
        with open(path, "a") as out:
            out.write(json.dumps({"exchange": found, "held_mib": round(held_bytes / 2**20, 1),
                                  "after_collect_mib": round(after_bytes / 2**20, 1), "pid": os.getpid()}) + "\n")

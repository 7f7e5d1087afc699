"""The typed protocol between pytest's process and a kernel worker: one request, one outcome, one Status enum.

Every field of a request is read by the worker (``execute.run_item``) and every field of an outcome by the
controller (``pipeline``); the tests' fake runners build outcomes from these same types. Both are frozen
dataclasses of plain values, so they pickle across a spawned worker unchanged. This module imports nothing heavy.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any


_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but tab and newline, DEL, C1 (ESC is C0)


def escape_controls(text: str) -> str:
    """``text`` with its control characters shown as visible escapes (``\\x1b``): a kernel's error, traceback or
    stderr could otherwise move the cursor, erase the report's lines above it and print rows of its own on the
    user's terminal (red-team round 8, j05). Tab and newline stay; escaping twice changes nothing more."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class Status(str, enum.Enum):
    """An item's verdict, as FlashInfer Trace spells it (plus SKIPPED, which never reaches a trace line)."""

    PASSED = "PASSED"
    INCORRECT_SHAPE = "INCORRECT_SHAPE"
    INCORRECT_NUMERICAL = "INCORRECT_NUMERICAL"
    INCORRECT_DTYPE = "INCORRECT_DTYPE"
    RUNTIME_ERROR = "RUNTIME_ERROR"
    COMPILE_ERROR = "COMPILE_ERROR"
    TIMEOUT = "TIMEOUT"
    REWARD_HACK = "REWARD_HACK"
    INVALID_REFERENCE = "INVALID_REFERENCE"
    SKIPPED = "SKIPPED"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class TimingRequest:
    """How the worker times: the wall cap of one timed phase, the timer, and the L2 flush size."""

    max_time_s: float = 2.0
    timer: str = "cupti"  # "cupti" | "events"
    l2_flush_bytes: int | None = None  # None: sized from the device; 0: no flush (warm-cache timings)
    rotation_bytes: int = 1 << 30  # input copies rotated between timed calls, at most this many bytes together


@dataclass(frozen=True)
class ItemRequest:
    """One item for a worker: which problem, workload and kernel; where; how many rounds; what to time.

    A baseline is timed by a request of its own, whose kernel is the reference (``rounds=0``: no checking), sent to
    a worker that never imported kernel code."""

    definition_path: str
    workload_uuid: str
    kernel: dict[str, Any]  # kernels.KernelSpec.to_payload()
    device: str  # "cuda" | "cpu"
    seed: int
    rounds: int
    time_kernel: bool
    compile_kernel: bool = False  # torch.compile the entry function first (the "compile" baseline)
    timing: TimingRequest = field(default_factory=TimingRequest)
    reduction_len: int | None = None  # K of a GEMM-like problem: widens low-precision atol (check.default_tolerance)
    count_flops: bool = False  # the controller could not count FLOPs on meta tensors: count them on real inputs
    count_touched: bool = False  # the reads follow the data: find the input bytes the timed inputs reach
    blob_root: str | None = None  # where relative safetensors paths start (None: the dataset root)
    bind_by_name: bool = False  # call the reference with keyword arguments (its run() orders them otherwise)
    guard: bool = True  # run the runtime integrity checks around the kernel
    allowed_rules: tuple[str, ...] = ()  # the guard's rules the kernel's SOLBENCH_ALLOW covers (none under strict)
    timeout_s: float = 300.0  # the judge's limit on the kernel's process over the whole item

    @property
    def tenant(self) -> str:
        """Which worker may serve this request: one per kernel, and the reference's own, which imports no kernel."""
        if self.kernel.get("is_reference"):  # the flag, never the name: a user's kernel may not pass for it
            return "reference"
        return f"kernel:{self.kernel.get('name', '')}:{self.kernel.get('path', '')}"


@dataclass(frozen=True)
class ItemOutcome:
    """What the worker found: a status, a log for people, and the figures the controller scores."""

    status: Status
    log: str = ""
    correctness: dict[str, Any] | None = None  # FlashInfer Trace's correctness object
    kernel_timing: dict[str, Any] | None = None  # samples.Measurement.to_dict()
    destination_passing: bool | None = None
    flops_by_dtype: dict[str, float] | None = None  # counted on real inputs when the request asked
    touched_bytes: dict[str, float] | None = None  # input name -> bytes the timed inputs reach, when asked
    rule: str | None = None  # the anti-cheat rule that fired, with REWARD_HACK
    judge_phases_s: dict[str, float] | None = None  # where the judge's time on the item went (``judge.phases``)
    judge_spent: bool = False  # the judge's process holds more GPU memory than it should after an item: replace it

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status):
            object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "log", escape_controls(self.log))  # it carries a kernel's own words (j05)


def failure(status: Status | str, log: str, **fields: Any) -> ItemOutcome:
    """An outcome other than PASSED."""
    return ItemOutcome(Status(status), log, **fields)

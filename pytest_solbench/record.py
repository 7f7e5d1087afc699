"""The record of one item: everything it established, as plain values that travel to the xdist controller."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_solbench.protocol import Status


@dataclass(frozen=True)
class ItemResult:
    """Everything one item established; travels on the pytest report, so xdist sees it too."""

    nodeid: str
    problem: str
    kernel: str
    workload_uuid: str
    workload_label: str
    status: Status
    device: str
    hardware: str  # the hardware row the bound used
    t_sol_ms: float | None = None
    bound: str | None = None  # "memory" | "compute"
    flops_by_dtype: dict[str, float] = field(default_factory=dict)
    bytes_moved: float | None = None
    sol_sm_clock_mhz: float | None = None  # the SM clock T_SOL's compute term assumed (None: the datasheet's)
    floor_ms: float | None = None  # the physical floor the below-SOL check used (sol.physical_floor_ms)
    t_k_ms: float | None = None
    t_b_ms: float | None = None
    score: float | None = None
    pct_sol: float | None = None
    speedup: float | None = None
    log: str = ""
    workload: dict[str, Any] = field(default_factory=dict)  # the workload as in the problem file
    correctness: dict[str, Any] | None = None
    kernel_timing: dict[str, Any] | None = None
    reference_timing: dict[str, Any] | None = None  # the baseline's measurement, when this item timed it
    judge_phases_s: dict[str, float] | None = None  # seconds per part of the judge's work (``judge.phases``)
    clocks: dict[str, Any] | None = None
    rule: str | None = None  # the anti-cheat rule that fired, with REWARD_HACK
    profile: dict[str, Any] | None = None  # --solbench-profile: profile.Profile.to_dict(), or {"skipped": why}
    baseline: str = "reference"
    kernel_path: str = ""  # its source (module or solution.json): a name alone can be anyone's (round 8, j02)
    seed: int = 0
    environment: dict[str, Any] = field(default_factory=dict)
    timestamp: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status):  # read back from JSON (xdist, a saved run)
            object.__setattr__(self, "status", Status(self.status))

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    @property
    def failed(self) -> bool:
        """A verdict against the item: neither passed nor skipped."""
        return self.status not in (Status.PASSED, Status.SKIPPED)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ItemResult:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def load_baseline_times(path: Path) -> dict[str, dict[str, float]]:
    """Stored baseline times: ``{definition: {workload uuid: ms}}`` from a JSON file, or from the JSON lines of an
    earlier ``--solbench-json`` run (one passing kernel per workload). Raises ValueError naming what is wrong."""
    text = path.read_text()
    if path.suffix == ".jsonl":
        times: dict[str, dict[str, float]] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                definition, uuid = record["definition"], record["workload"]["uuid"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise ValueError(f"{path}: line {number}: not a trace line") from None
            latency = ((record.get("evaluation") or {}).get("performance") or {}).get("latency_ms")
            if latency is None:
                continue
            if uuid in times.setdefault(definition, {}):
                raise ValueError(f"{path}: line {number}: a second time for {definition} workload {uuid}; keep one "
                                 "kernel per workload in a baseline file")  # fmt: skip
            times[definition][uuid] = float(latency)
        return times
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: line {exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{path}: expected {{definition: {{workload uuid: milliseconds}}}}")
    try:
        return {d: {u: float(ms) for u, ms in per.items()} for d, per in data.items()}
    except (TypeError, ValueError):
        raise ValueError(f"{path}: every time must be a number of milliseconds") from None

"""The frozen ``Settings`` a session runs with: every option resolved once (``options.resolve``), units in the
field names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    problem_paths: tuple[Path, ...]
    kernel_dirs: tuple[Path, ...]
    json_path: Path | None
    seed: int
    device: str  # "auto" | "cuda" | "cpu" as asked; the session resolves auto
    hardware: str | None
    rounds: int
    timeout_s: float | None  # None: the pipeline's default for the device (pipeline.Pipeline.timeout_s)
    max_time_s: float
    timer: str  # "cupti" | "events"
    isolate: str  # "process" | "none"
    clocks: str  # "observe" | "lock" | "lock=SM" | "lock=SM,MEM", validated by clocks.parse_clock_mode
    min_score: float | None
    cpu_max_elements: int
    bounds_only: bool
    ceilings: str  # "datasheet" | "measured"
    baseline: str  # "reference" | "compile" | a path to stored times
    allow_below_sol: bool
    guard: str = "on"  # "on" | "strict" | "off"
    blob_root: Path | None = None  # where relative safetensors paths start (None: each dataset's root)
    bind_by_name: bool = False
    profile: bool = False  # Nsight Compute on each passing timed item
    store: Path = Path(".solbench/runs")
    save: str | None = None  # a name ("" for the commit), or None: not saved
    compare: str | None = None  # a name or path ("" for the latest on this machine), or None: no comparison
    max_regression: float = 0.05
    compare_force: bool = False
    markdown_path: Path | None = None
    html_path: Path | None = None
    roofline_path: Path | None = None
    columns: tuple[str, ...] = ()  # the summary's columns (reports.terminal keys); () for its default
    sort: str = "workload"
    histogram_path: Path | None = None
    ray: str | None = None  # --solbench-ray: an address, "" for Ray's default, or None: no Ray

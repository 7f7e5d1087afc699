"""The frozen ``Settings`` a session runs with, and ``resolve``: every option (declared in ``options``) resolved
once, CLI over ini over defaults, one function per option group; a bad value is a usage error naming it."""

from __future__ import annotations

import importlib.util
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_solbench.data.library import bundled_problems

DEFAULT_CPU_MAX_ELEMENTS = 4_000_000
# Interpreted Triton runs ~0.07 GFLOP/s on a CI core: 4 GFLOP is about a minute idle, well inside the CPU timeout under
# load; the README's 15 GFLOP GEMM took 214 s idle and timed out (600 s) on a loaded machine.
DEFAULT_CPU_MAX_GFLOP = 4.0


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
    cpu_max_gflop: float = DEFAULT_CPU_MAX_GFLOP  # on CPU, workloads of more work are skipped

    def gpu_only(self) -> tuple[str, ...]:
        """The options asked for that act only on a GPU's timing: CPU mode times nothing, so they change nothing."""
        asked = {"--solbench-profile": self.profile, f"--solbench-clocks {self.clocks}": self.clocks != "observe",
                 "--solbench-ceilings measured": self.ceilings == "measured",
                 f"--solbench-timer {self.timer}": self.timer != "cupti",
                 "--solbench-histogram": self.histogram_path is not None}  # fmt: skip
        return tuple(name for name, on in asked.items() if on)


def _ini_number(config: pytest.Config, key: str, kind: type) -> float | int | None:
    raw = str(config.getini(key) or "").strip()
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise pytest.UsageError(f"ini key {key} = {raw!r} is not a {kind.__name__}") from None


def _choice(config: pytest.Config, option: str, ini: str | None, choices: tuple[str, ...]) -> str:
    """A word option: CLI over ini over the first choice; anything else is a usage error naming the option."""
    value = getattr(config.option, option.lstrip("-").replace("-", "_")) or (str(config.getini(ini) or "") if ini else "")
    value = value.strip().lower() or choices[0]
    if value not in choices:
        raise pytest.UsageError(f"{option} {value!r}: choose one of {', '.join(choices)}")
    return value


def require_torch() -> None:
    """--solbench runs PyTorch references: without torch it stops at once, saying what to install."""
    if importlib.util.find_spec("torch") is None:
        raise pytest.UsageError(
            "--solbench needs PyTorch, which is not installed in this environment: `pip install torch` (the build "
            "for your CUDA version, or a CPU build for correctness only), and `pip install triton` for Triton kernels"
        )


def resolve(config: pytest.Config) -> Settings:
    """Every option, validated: CLI over ini over defaults; a bad value is a usage error naming it. One function
    per option group, each giving its own fields of the frozen ``Settings``."""
    invocation = Path(config.invocation_params.dir)
    fields: dict[str, Any] = {}
    for group in (_general, _timing, _guard, _gates, _reports, _cluster):
        fields.update(group(config, invocation))
    return Settings(**fields)


def _option_or_ini(config: pytest.Config, option: str, ini: str, kind: type) -> Any:
    value = getattr(config.option, option)
    return value if value is not None else _ini_number(config, ini, kind)


def _general(config: pytest.Config, invocation: Path) -> dict[str, Any]:
    opt = config.option
    problems = [invocation / p for p in opt.solbench_problems] or list(config.getini("solbench_problems"))
    kernel_dirs = [invocation / p for p in opt.kernel_dir] or list(config.getini("solbench_kernel_dirs"))
    for path in [*problems, *kernel_dirs]:
        if not Path(path).exists():
            flag = "--kernel-dir" if path in kernel_dirs else "--solbench-problems"
            raise pytest.UsageError(f"{flag} {path}: no such file or folder")
    for path in problems:
        _check_holds_problems(Path(path))
    rounds = opt.solbench_rounds if opt.solbench_rounds is not None else 5
    if rounds < 1:
        raise pytest.UsageError(f"--solbench-rounds must be at least 1, got {rounds}")
    seed = opt.solbench_seed if opt.solbench_seed is not None else secrets.randbelow(2**31)  # unpredictable
    if seed < 0:
        raise pytest.UsageError(f"--solbench-seed must be a non-negative integer, got {seed}")
    cpu_max = _option_or_ini(config, "solbench_cpu_max_elements", "solbench_cpu_max_elements", int)
    cpu_max = cpu_max or DEFAULT_CPU_MAX_ELEMENTS
    if cpu_max < 1:
        raise pytest.UsageError(f"--solbench-cpu-max-elements must be positive, got {cpu_max}")
    cpu_gflop = _option_or_ini(config, "solbench_cpu_max_gflop", "solbench_cpu_max_gflop", float)
    cpu_gflop = DEFAULT_CPU_MAX_GFLOP if cpu_gflop is None else cpu_gflop
    if cpu_gflop <= 0:
        raise pytest.UsageError(f"--solbench-cpu-max-gflop must be positive, got {cpu_gflop:g}")
    hardware = opt.solbench_hardware or str(config.getini("solbench_hardware") or "") or None
    if hardware is not None:
        from pytest_solbench.sol import hardware as hardware_table

        try:
            hardware_table.lookup(hardware)
        except KeyError as exc:
            raise pytest.UsageError(f"--solbench-hardware: {exc.args[0]}") from None
    blob_root = opt.solbench_blob_root or str(config.getini("solbench_blob_root") or "") or os.environ.get(
        "FIB_DATASET_PATH") or None  # fmt: skip
    if blob_root is not None and not (invocation / blob_root).is_dir():
        raise pytest.UsageError(f"--solbench-blob-root {invocation / blob_root}: no such folder")
    return dict(
        problem_paths=tuple(Path(p) for p in problems) or (bundled_problems(),),
        kernel_dirs=tuple(Path(p) for p in kernel_dirs),
        seed=seed,
        device=_choice(config, "--solbench-device", None, ("auto", "cuda", "cpu")),
        hardware=hardware,
        rounds=rounds,
        isolate=_choice(config, "--solbench-isolate", None, ("process", "none")),
        cpu_max_elements=int(cpu_max),
        cpu_max_gflop=float(cpu_gflop),
        bounds_only=bool(opt.solbench_bounds_only),
        blob_root=invocation / blob_root if blob_root else None,
        bind_by_name=bool(opt.solbench_bind_by_name),
    )


def _check_holds_problems(path: Path) -> None:
    """A --solbench-problems path without a single definition would collect nothing and end in pytest's bare "no
    tests ran": say why instead. Found by layout only; each definition's content is checked at collection."""
    from pytest_solbench.data.trace import problem_files

    if path.is_file():
        if problem_files(path) is None:
            raise pytest.UsageError(f"--solbench-problems {path}: not a problem definition (name the problem's folder, "
                                    "its definition.json, or a FlashInfer Trace definitions/<op_type>/<name>.json)")
        return
    if not any(problem_files(f) is not None for f in path.rglob("*.json")):
        raise pytest.UsageError(f"--solbench-problems {path}: no problem found there (a problem is a folder holding "
                                "definition.json, reference.py and workload.jsonl, or a FlashInfer Trace dataset's "
                                "definitions/<op_type>/<name>.json)")


def _timing(config: pytest.Config, invocation: Path) -> dict[str, Any]:
    opt = config.option
    timeout = _option_or_ini(config, "solbench_timeout", "solbench_timeout", float)
    if timeout is not None and timeout <= 0:
        raise pytest.UsageError(f"--solbench-timeout must be positive, got {timeout}")
    max_time = opt.solbench_max_time
    if max_time is None:
        max_time = _ini_number(config, "solbench_max_time", float) or 2.0
    if max_time <= 0:
        raise pytest.UsageError(f"--solbench-max-time must be positive, got {max_time}")
    baseline = opt.solbench_baseline or str(config.getini("solbench_baseline") or "") or "reference"
    if baseline not in ("reference", "compile"):
        baseline = str(invocation / baseline)
        if not Path(baseline).is_file():
            raise pytest.UsageError(f"--solbench-baseline {baseline}: no such file (or use 'reference' or 'compile')")
    from pytest_solbench.measure.clocks import parse_clock_mode

    clocks = opt.solbench_clocks or str(config.getini("solbench_clocks") or "") or "observe"
    try:
        clocks = str(parse_clock_mode(clocks))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    return dict(
        timeout_s=None if timeout is None else float(timeout),
        max_time_s=float(max_time),
        timer=_choice(config, "--solbench-timer", "solbench_timer", ("cupti", "events")),
        clocks=clocks,
        ceilings=_choice(config, "--solbench-ceilings", None, ("datasheet", "measured")),
        baseline=baseline,
        profile=bool(opt.solbench_profile or config.getini("solbench_profile")),
    )


def _guard(config: pytest.Config, invocation: Path) -> dict[str, Any]:
    return dict(guard=_choice(config, "--solbench-guard", "solbench_guard", ("on", "strict", "off")))


def _gates(config: pytest.Config, invocation: Path) -> dict[str, Any]:
    opt = config.option
    min_score = _option_or_ini(config, "solbench_min_score", "solbench_min_score", float)
    if min_score is not None and not 0.0 <= min_score <= 1.0:
        raise pytest.UsageError(f"--solbench-min-score must be between 0 and 1, got {min_score}")
    max_regression = _option_or_ini(config, "solbench_max_regression", "solbench_max_regression", float)
    max_regression = 0.05 if max_regression is None else max_regression
    if not 0.0 <= max_regression < 1.0:
        raise pytest.UsageError(f"--solbench-max-regression must be a fraction in [0, 1), got {max_regression}")
    from pytest_solbench.reports.store import default_store

    store = opt.solbench_store or str(config.getini("solbench_store") or "") or str(default_store(invocation,
                                                                                                   config.inipath))
    return dict(
        min_score=min_score,
        allow_below_sol=bool(opt.solbench_allow_below_sol),
        store=invocation / store,
        save=opt.solbench_save,
        compare=opt.solbench_compare,
        max_regression=float(max_regression),
        compare_force=bool(opt.solbench_compare_force),
    )


def _reports(config: pytest.Config, invocation: Path) -> dict[str, Any]:
    opt = config.option
    roofline = Path(invocation / opt.solbench_roofline) if opt.solbench_roofline else None
    if roofline is not None and roofline.suffix not in (".svg", ".png"):
        raise pytest.UsageError(f"--solbench-roofline {roofline}: name a .svg or .png file")
    if roofline is not None and roofline.suffix == ".png" and importlib.util.find_spec("matplotlib") is None:
        raise pytest.UsageError(f"--solbench-roofline {roofline}: a PNG needs matplotlib: pip install "
                                "'pytest-solbench[plot]' (or name a .svg file, which needs nothing)")  # fmt: skip
    return dict(
        json_path=Path(invocation / opt.solbench_json) if opt.solbench_json else None,
        markdown_path=Path(invocation / opt.solbench_markdown) if opt.solbench_markdown else None,
        html_path=Path(invocation / opt.solbench_html) if opt.solbench_html else None,
        roofline_path=roofline,
        **_summary(config, invocation),
    )


def _summary(config: pytest.Config, invocation: Path) -> dict[str, Any]:
    """--solbench-columns, --solbench-sort and --solbench-histogram, each checked; a bad value is a usage error."""
    from pytest_solbench.reports.terminal import DEFAULT_COLUMNS, column_key

    opt = config.option
    words = opt.solbench_columns or str(config.getini("solbench_columns") or "")
    sort = opt.solbench_sort or str(config.getini("solbench_sort") or "") or "workload"
    try:
        columns = tuple(column_key(w) for w in words.split(",") if w.strip()) if words else DEFAULT_COLUMNS
    except ValueError as exc:
        raise pytest.UsageError(f"--solbench-columns: {exc}") from None
    try:
        sort = column_key(sort)
    except ValueError as exc:
        raise pytest.UsageError(f"--solbench-sort: {exc}") from None
    histogram = Path(invocation / opt.solbench_histogram) if opt.solbench_histogram else None
    if histogram is not None:
        if histogram.suffix not in (".svg", ".png"):
            raise pytest.UsageError(f"--solbench-histogram {histogram}: name a .svg or .png file")
        if importlib.util.find_spec("matplotlib") is None:
            raise pytest.UsageError(f"--solbench-histogram {histogram}: plotting needs matplotlib: pip install "
                                    "'pytest-solbench[plot]'")  # fmt: skip
    return {"columns": columns, "sort": sort, "histogram_path": histogram}


def _cluster(config: pytest.Config, invocation: Path) -> dict[str, Any]:
    """--solbench-ray over ini solbench_ray; the options that cannot work across a cluster are usage errors here."""
    address = config.option.solbench_ray
    if address is None:
        ini = str(config.getini("solbench_ray") or "").strip()
        address = None if not ini else ("" if ini == "default" else ini)
    if address is None:
        return dict(ray=None)
    clocks = config.option.solbench_clocks or str(config.getini("solbench_clocks") or "")
    clashes = [(_choice(config, "--solbench-isolate", None, ("process", "none")) == "none",
                "--solbench-isolate none (on Ray every item is decided by a judge actor, its kernel in a process "
                "of its own)"),
               (_choice(config, "--solbench-ceilings", None, ("datasheet", "measured")) == "measured",
                "--solbench-ceilings measured (ceilings are measured on one local GPU)"),
               (bool(config.option.solbench_profile or config.getini("solbench_profile")),
                "--solbench-profile (Nsight Compute runs on this machine's GPU)"),
               (bool(getattr(config.option, "numprocesses", None)), "-n (Ray spreads the items itself)"),
               (clocks.strip().lower().startswith("lock"), "--solbench-clocks lock (lock the clocks on the nodes "
                "before the run)")]  # fmt: skip
    for clash, words in clashes:
        if clash:
            raise pytest.UsageError(f"--solbench-ray cannot be combined with {words}")
    if importlib.util.find_spec("ray") is None:
        from pytest_solbench.worker.ray_runner import RAY_MISSING

        raise pytest.UsageError(RAY_MISSING)
    return dict(ray=address)

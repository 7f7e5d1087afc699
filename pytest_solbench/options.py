"""Command-line options and ini keys, resolved once into a frozen ``Settings``."""

from __future__ import annotations

import importlib.util
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_solbench.data.library import bundled_problems

GROUP = ("solbench", "GPU kernel speed-of-light benchmarking")
DEFAULT_CPU_MAX_ELEMENTS = 4_000_000


def addoption(parser: pytest.Parser) -> None:
    """Every option under one group, mirrored as ini keys where a project sets it once; one function per concern."""
    group = parser.getgroup(*GROUP)
    for add in (_add_general, _add_timing, _add_guard, _add_gates, _add_reports):
        add(group, parser)


def _add_general(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    """What runs: problems, kernels, device, hardware row, correctness rounds."""
    group.addoption("--solbench", action="store_true", help="collect and run the problem library as tests.")
    group.addoption(
        "--kernel-dir", action="append", default=[], metavar="DIR",
        help="folder (or file) of kernels to check and score: solution.json files or Python modules with "
        "DEFINITION and run(); repeatable. Without it, each problem's reference is the kernel.",
    )  # fmt: skip
    group.addoption(
        "--solbench-problems", action="append", default=[], metavar="PATH",
        help="problem folder in SOL-ExecBench or FlashInfer-Trace layout; repeatable (ini: solbench_problems; "
        "default: the bundled library).",
    )  # fmt: skip
    parser.addini("solbench_problems", type="paths", default=[], help="problem folders (default: the bundled library).")
    parser.addini("solbench_kernel_dirs", type="paths", default=[], help="kernel folders, as --kernel-dir.")
    group.addoption("--solbench-seed", type=int, default=None, metavar="N", help="seed of all inputs (default: drawn "
                    "at random, printed in the header and trace lines; a fixed N reproduces a run, never grade with "
                    "it: a kernel can precompute its inputs).")  # fmt: skip
    group.addoption("--solbench-device", default=None, metavar="auto|cuda|cpu", help="where kernels run (default auto).")
    group.addoption("--solbench-hardware", metavar="NAME", help="hardware row for SOL bounds (default: the GPU at hand; h100_sxm on CPU).")
    parser.addini("solbench_hardware", default="", help="as --solbench-hardware.")
    group.addoption("--solbench-rounds", type=int, default=None, metavar="N", help="correctness rounds with fresh inputs (default 5).")
    group.addoption("--solbench-isolate", default=None, metavar="process|none", help="run kernels in a worker process (default) or in-process.")
    group.addoption(
        "--solbench-cpu-max-elements", type=int, default=None, metavar="N",
        help=f"on CPU, skip workloads with a tensor that grows with the workload beyond N elements "
        f"(default {DEFAULT_CPU_MAX_ELEMENTS:,}; weights of fixed shape do not count).",
    )  # fmt: skip
    parser.addini("solbench_cpu_max_elements", default="", help="as --solbench-cpu-max-elements.")
    group.addoption(
        "--solbench-blob-root", default=None, metavar="DIR",
        help="where workloads' relative safetensors paths start (default: $FIB_DATASET_PATH when set, else each "
        "dataset's root; ini solbench_blob_root).",
    )  # fmt: skip
    parser.addini("solbench_blob_root", default="", help="as --solbench-blob-root.")
    group.addoption(
        "--solbench-bind-by-name", action="store_true",
        help="call references with keyword arguments when their run() names the inputs in another order than the "
        "definition lists them (four FlashInfer MoE definitions do).",
    )  # fmt: skip
    group.addoption("--solbench-bounds-only", action="store_true", help="print every workload's SOL bound; run no kernel.")


def _add_timing(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    """How kernels are timed: limits, timer, clocks, ceilings, the baseline, profiling."""
    group.addoption("--solbench-timeout", type=float, default=None, metavar="SECONDS",
                    help="per-item time limit (default: 60 on a GPU, a kernel's first workload 5x to compile and "
                    "autotune; 600 on CPU, where Triton runs in its interpreter).")  # fmt: skip
    parser.addini("solbench_timeout", default="", help="as --solbench-timeout.")
    group.addoption(
        "--solbench-max-time", type=float, default=None, metavar="SECONDS",
        help="wall-time cap of one timed phase (kernel or baseline); it stops sooner once the median is stable "
        "to 0.5 %% (default 2; ini solbench_max_time).",
    )  # fmt: skip
    parser.addini("solbench_max_time", default="", help="as --solbench-max-time.")
    group.addoption(
        "--solbench-timer", default=None, metavar="cupti|events",
        help="cupti (default): each timed call spans its kernels' own start and end timestamps on every stream, "
        "with the set of kernels it launched; events: CUDA events around each call, 1-2 us of launch gap included "
        "(docs/measurement.md; ini solbench_timer).",
    )  # fmt: skip
    parser.addini("solbench_timer", default="", help="as --solbench-timer.")
    group.addoption(
        "--solbench-clocks", default=None, metavar="MODE",
        help="observe (default): read SM and memory clocks around every measurement; lock[=SM[,MEM]]: lock them "
        "through NVML (needs root), restore after, and refuse to score if the lock is not in force.",
    )  # fmt: skip
    parser.addini("solbench_clocks", default="", help="as --solbench-clocks.")
    group.addoption(
        "--solbench-ceilings", default=None, metavar="datasheet|measured",
        help="score against the datasheet peaks (default), or against a copy and a GEMM per precision measured "
        "once on the GPU at hand; the summary shows both.",
    )  # fmt: skip
    group.addoption(
        "--solbench-baseline", default=None, metavar="reference|compile|FILE",
        help="T_b: the reference timed the same way (default), torch.compile of it, or stored times: a JSON file "
        "{definition: {workload uuid: ms}} or a --solbench-json file of an earlier run (ini solbench_baseline).",
    )  # fmt: skip
    parser.addini("solbench_baseline", default="", help="as --solbench-baseline.")
    group.addoption(
        "--solbench-profile", action="store_true",
        help="after each passing timed item, run Nsight Compute (ncu) once on the kernel's call: DRAM and SM "
        "throughput as %% of peak, the limiting unit, and the ncu command to dig further (ini solbench_profile).",
    )  # fmt: skip
    parser.addini("solbench_profile", type="bool", default=False, help="as --solbench-profile.")


def _add_guard(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    """The anti-cheat guard (docs/threat-model.md)."""
    group.addoption(
        "--solbench-guard", default=None, metavar="on|strict|off",
        help="on (default): static rules over each kernel's sources, allowable per kernel with a written reason "
        "(SOLBENCH_ALLOW), and runtime tripwires in its worker; strict: allowances ignored, for grading untrusted "
        "kernels; off: neither (docs/threat-model.md; ini solbench_guard).",
    )  # fmt: skip
    parser.addini("solbench_guard", default="", help="as --solbench-guard.")


def _add_gates(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    """What fails a run beyond correctness: the score floor, the below-SOL check, a saved run to compare with."""
    group.addoption("--solbench-min-score", type=float, default=None, metavar="X", help="fail items whose SOL Score is below X.")
    parser.addini("solbench_min_score", default="", help="as --solbench-min-score.")
    group.addoption("--solbench-allow-below-sol", action="store_true", help="accept times below the SOL bound instead of failing them.")
    group.addoption(
        "--solbench-save", nargs="?", const="", default=None, metavar="NAME",
        help="save this run (every item's record and raw samples) in the store under NAME (default: the git commit), "
        "in a folder keyed by GPU, driver, clocks and library versions.",
    )  # fmt: skip
    group.addoption(
        "--solbench-compare", nargs="?", const="", default=None, metavar="NAME|PATH",
        help="compare each item with a saved run (default: the latest on this machine): medians with a bootstrap "
        "interval; an item fails only on a confirmed slowdown above --solbench-max-regression.",
    )  # fmt: skip
    group.addoption("--solbench-max-regression", type=float, default=None, metavar="X",
                    help="slowdown a comparison tolerates, as a fraction (default 0.05).")  # fmt: skip
    parser.addini("solbench_max_regression", default="", help="as --solbench-max-regression.")
    group.addoption("--solbench-compare-force", action="store_true",
                    help="compare with a run saved on another machine or clock state.")  # fmt: skip
    group.addoption("--solbench-store", default=None, metavar="DIR", help="where runs are saved (default: .solbench/runs at the git top-level, else beside the ini file, else here).")
    parser.addini("solbench_store", default="", help="as --solbench-store.")


def _add_reports(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    """Files written besides the terminal table."""
    group.addoption("--solbench-json", metavar="PATH", help="write one FlashInfer Trace JSON line per item, as they come.")
    group.addoption("--solbench-markdown", metavar="PATH",
                    help="write a markdown summary for a pull request (also appended to $GITHUB_STEP_SUMMARY).")
    group.addoption("--solbench-html", metavar="PATH", help="write a self-contained HTML report with a roofline.")
    group.addoption("--solbench-roofline", metavar="PATH", help="write the roofline picture (.svg, or .png with matplotlib).")
    # The summary's columns and order, and the samples' distribution (pytest-benchmark's --benchmark-columns,
    # --benchmark-sort and --benchmark-histogram).
    group.addoption(
        "--solbench-columns", default=None, metavar="LIST",
        help="the summary's columns after the workload, comma-separated, from: kernel, status, median (T_k), min, "
        "mean, stdev, iqr (spread), n, t_b, t_sol, bound, pct_sol (%%SOL), speedup, score (ini solbench_columns).",
    )  # fmt: skip
    group.addoption("--solbench-sort", default=None, metavar="COLUMN",
                    help="order each problem's rows by a column: workload (default), min, median, iqr, n, score, "
                    "...; scores best first, times fastest first (ini solbench_sort).")  # fmt: skip
    group.addoption("--solbench-histogram", default=None, metavar="PATH",
                    help="plot each timed item's samples (a box per item, log time axis) to PATH (.svg or .png; "
                    "needs matplotlib: pip install 'pytest-solbench[plot]').")  # fmt: skip
    parser.addini("solbench_columns", default="", help="as --solbench-columns.")
    parser.addini("solbench_sort", default="", help="as --solbench-sort.")


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
    for group in (_general, _timing, _guard, _gates, _reports):
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
        bounds_only=bool(opt.solbench_bounds_only),
        blob_root=invocation / blob_root if blob_root else None,
        bind_by_name=bool(opt.solbench_bind_by_name),
    )


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

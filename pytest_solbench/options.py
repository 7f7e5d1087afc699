"""Command-line options and ini keys, declared per group; ``settings.resolve`` turns them into a frozen ``Settings``."""

from __future__ import annotations

import pytest

from pytest_solbench.settings import DEFAULT_CPU_MAX_ELEMENTS, DEFAULT_CPU_MAX_GFLOP, Settings, require_torch, resolve  # noqa: F401

GROUP = ("solbench", "GPU kernel speed-of-light benchmarking")


def addoption(parser: pytest.Parser) -> None:
    """Every option under one group, mirrored as ini keys where a project sets it once; one function per concern."""
    group = parser.getgroup(*GROUP)
    for add in (_add_general, _add_timing, _add_guard, _add_gates, _add_reports, _add_cluster):
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
        "--solbench-cpu-max-gflop", type=float, default=None, metavar="G",
        help=f"on CPU, skip workloads whose bound counts more than G GFLOP (default {DEFAULT_CPU_MAX_GFLOP:g}: an "
        "interpreted Triton GEMM of 15 GFLOP takes minutes on one core).",
    )  # fmt: skip
    parser.addini("solbench_cpu_max_gflop", default="", help="as --solbench-cpu-max-gflop.")
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


def _add_cluster(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    """Where items run past this machine: a Ray cluster (docs/ray.md)."""
    group.addoption(
        "--solbench-ray", nargs="?", const="", default=None, metavar="ADDRESS",
        help="run items on a Ray cluster, one judge actor per GPU (or CPU) seat, on any node: HOST:PORT, "
        "ray://HOST:PORT, auto (the cluster this machine belongs to) or local (one started for this session); no "
        "ADDRESS: Ray's default ($RAY_ADDRESS, else auto, else local). Needs pip install 'pytest-solbench[ray]' "
        "(docs/ray.md; ini solbench_ray).",
    )  # fmt: skip
    parser.addini("solbench_ray", default="", help="as --solbench-ray ADDRESS ('default' for Ray's default).")

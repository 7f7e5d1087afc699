"""``--solbench-profile``: one Nsight Compute pass over a kernel's timed call, to say why it is far from SOL.

``profile_item(request, timeout_s)`` writes the item's request to a JSON file and runs, under ``ncu``,
``python -m pytest_solbench.worker.profile <file>``: that child builds the inputs and the kernel the way a worker does
(``execute``'s helpers), calls the kernel once to warm it up, then once more inside the NVTX range
``solbench_profile``, the only range ncu profiles. ncu's CSV gives, per kernel launched in that call, its duration
and its DRAM, memory and SM throughput as % of peak; ``Profile`` weights them by duration and names the limiter.
Anything that stops the profile (no ncu, no permission, the child failed, a timeout) is returned as a reason.

This module imports nothing heavy at import time; torch is imported only by the child.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pytest_solbench.protocol import ItemRequest, TimingRequest

NVTX_RANGE = "solbench_profile"
DURATION = "gpu__time_duration.sum"
DRAM = "gpu__dram_throughput.avg.pct_of_peak_sustained_elapsed"  # "DRAM Throughput" of ncu's SpeedOfLight section
MEMORY = "gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed"  # "Memory Throughput": DRAM, L2, L1
SM = "sm__throughput.avg.pct_of_peak_sustained_elapsed"  # "Compute (SM) Throughput"
METRICS = (DURATION, DRAM, MEMORY, SM)
ALIASES = {DRAM: ("dram__throughput.avg.pct_of_peak_sustained_elapsed",)}  # the same figure, older spelling
BOUND_PCT = 60.0  # a unit at or above this % of its peak limits the kernel (Nsight Compute's own SOL rule)
NCU_PLACES = ("/usr/local/cuda/bin/ncu", "/opt/nvidia/nsight-compute/*/ncu")
PERMISSION = ("ncu may not read the GPU's performance counters (ERR_NVGPUCTRPERM): run as root, or load the "
              "driver with NVreg_RestrictProfilingToAdminUsers=0")  # fmt: skip
STDERR_LINES = 12
_TIME_UNITS_US = {"nsecond": 1e-3, "ns": 1e-3, "usecond": 1.0, "us": 1.0, "msecond": 1e3, "ms": 1e3,
                  "second": 1e6, "s": 1e6}  # fmt: skip


@dataclass(frozen=True)
class KernelProfile:
    """One kernel launched in the profiled call."""

    name: str
    duration_us: float
    dram_throughput_pct: float | None
    memory_throughput_pct: float | None  # the busiest memory unit: DRAM, L2 or L1 (shared memory included)
    sm_throughput_pct: float | None


@dataclass(frozen=True)
class Profile:
    """The profiled call: duration-weighted throughputs of its kernels, the limiter, and how to dig further."""

    dram_throughput_pct: float | None
    memory_throughput_pct: float | None
    sm_throughput_pct: float | None
    limiter: str  # "memory" | "compute" | "latency" (see limiter())
    duration_us: float  # the kernels' durations summed (gaps between kernels are not in it)
    kernels: tuple[KernelProfile, ...]
    command: str  # an ncu command line that profiles the same call in full, to paste into a shell

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kernels"] = [asdict(k) for k in self.kernels]
        return data


def limiter(memory_pct: float | None, sm_pct: float | None) -> str:
    """The unit that limits the kernel, by Nsight Compute's SOL rule: the busier of memory (the busiest of DRAM, L2
    and L1) and SM, when it reaches BOUND_PCT of its peak; when neither does, the kernel waits on latency (too
    little parallelism, stalls, launch overhead) rather than on a unit's throughput."""
    memory, compute = memory_pct or 0.0, sm_pct or 0.0
    if max(memory, compute) < BOUND_PCT:
        return "latency"
    return "memory" if memory >= compute else "compute"


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}%"


def format_short(profile: Profile) -> str:
    """One line for ``-v``: ``DRAM 87% SM 12% memory-bound``; the busiest memory unit is named when it is not DRAM."""
    memory = ""
    dram, busiest = profile.dram_throughput_pct, profile.memory_throughput_pct
    if busiest is not None and (dram is None or busiest - dram >= 10.0):
        memory = f" L1/L2 {_pct(busiest)}"
    kernels = f" over {len(profile.kernels)} kernels" if len(profile.kernels) > 1 else ""
    return f"DRAM {_pct(dram)}{memory} SM {_pct(profile.sm_throughput_pct)} {profile.limiter}-bound{kernels}"


def as_record(result: Profile | str) -> dict[str, Any]:
    """What ``profile_item`` gave, for the item's record: the profile, or ``{"skipped": reason}``."""
    return result.to_dict() if isinstance(result, Profile) else {"skipped": result}


def describe(result: Profile | str) -> str:
    """What ``profile_item`` gave, for ``-v``: the short line and the command, or why there is no profile."""
    if isinstance(result, Profile):
        return f"profile: {format_short(result)}\n  dig further: {result.command}"
    return f"profile skipped: {result}"


# ---------------------------------------------------------------- finding ncu and running it


def find_ncu() -> str | None:
    """ncu on PATH, else in the CUDA toolkit, else the newest Nsight Compute under /opt/nvidia (None: not found)."""
    found = shutil.which("ncu")
    if found:
        return found
    for pattern in NCU_PLACES:
        for path in sorted(glob.glob(pattern), reverse=True):
            if os.access(path, os.X_OK):
                return path
    return None


def ncu_argv(ncu: str, request_file: Path, *, full: bool = False) -> list[str]:
    """The ncu command line: the few SOL metrics as CSV, or (``full``) every section into a report file."""
    what = (["--set", "full", "--import-source", "yes", "-f", "-o", f"{request_file.with_suffix('')}"] if full
            else ["--csv", "--page", "raw", "--metrics", ",".join(METRICS)])  # fmt: skip
    return [ncu, *what, "--nvtx", "--nvtx-include", f"{NVTX_RANGE}/", "--target-processes", "all",
            "--clock-control", "none", sys.executable, "-m", "pytest_solbench.worker.profile", str(request_file)]  # fmt: skip


def write_request(request: ItemRequest, folder: Path) -> Path:
    """The request as JSON in ``folder``, its paths made absolute, so the command in the profile stays valid."""
    data = asdict(request)
    data["definition_path"] = str(Path(request.definition_path).resolve())
    if request.blob_root:
        data["blob_root"] = str(Path(request.blob_root).resolve())
    kernel = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(request.kernel.get("name", "kernel")))
    path = folder / f"{Path(request.definition_path).parent.name}-{kernel}-{request.workload_uuid[:8]}.json"
    path.write_text(json.dumps(data, indent=1))
    return path


def read_request(path: Path) -> ItemRequest:
    """A request written by ``write_request``. Raises ValueError naming the file when it is not one."""
    try:
        data = json.loads(path.read_text())
        return ItemRequest(**{**data, "timing": TimingRequest(**data.get("timing", {}))})
    except (json.JSONDecodeError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not a solbench profile request: {exc}") from None


def profile_item(request: ItemRequest, timeout_s: float, ncu: str | None = None, *,
                 env: dict[str, str] | None = None, folder: Path | None = None) -> Profile | str:  # fmt: skip
    """Profile the kernel's timed call of ``request`` under ncu; a Profile, or a sentence saying why not.

    ``env``: variables for the child on top of this process's (CUDA_VISIBLE_DEVICES, as the worker had);
    ``folder``: where the request file is kept (default: a new temporary folder), named by the command."""
    if not request.device.startswith("cuda"):
        return "profiling needs a GPU: this item ran on the CPU"
    ncu = ncu or find_ncu()
    if ncu is None:
        return "ncu (Nsight Compute) not found: not on PATH, nor in " + " or ".join(NCU_PLACES)
    folder = folder or Path(tempfile.mkdtemp(prefix="solbench-profile-"))
    request_file = write_request(request, folder)
    argv = ncu_argv(ncu, request_file)
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, errors="replace", env={**os.environ, **(env or {})},
                                start_new_session=True)  # its own group: a timeout ends ncu and the child  # fmt: skip
    except OSError as exc:
        return f"ncu could not be started ({ncu}): {exc}"
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return f"ncu ran past the {timeout_s:g} s timeout and was stopped"
    if "ERR_NVGPUCTRPERM" in out + err:
        return PERMISSION
    if proc.returncode != 0:
        return f"the profiled call failed (ncu exit status {proc.returncode}):\n{_tail(err or out)}"
    try:
        kernels = parse_csv(out)
    except ValueError as exc:
        return f"{exc}\n{_tail(err)}".rstrip()
    if not kernels:
        return f"ncu profiled no kernel inside the NVTX range {NVTX_RANGE!r}: the call launched no GPU work"
    prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in (env or {}).items())
    return summarize(kernels, prefix + shlex.join(ncu_argv(ncu, request_file, full=True)))


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.communicate()


def _tail(text: str, lines: int = STDERR_LINES) -> str:
    kept = [line for line in text.splitlines() if line.strip() and not line.startswith("==PROF==")]
    return "\n".join(kept[-lines:])


# ---------------------------------------------------------------- reading ncu's CSV


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None  # "n/a", or empty


def parse_csv(text: str) -> list[KernelProfile]:
    """The kernels of ``ncu --csv --page raw`` output: a preamble (``==PROF==`` lines, the program's prints), a
    header row (launch columns, then one column per metric), a row of units, then one row per kernel launch.
    Raises ValueError when there is no header or a metric column is missing."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith('"ID",') and '"Kernel Name"' in line), None)
    if start is None:
        raise ValueError("ncu printed no CSV table (no header row with \"ID\" and \"Kernel Name\")")
    rows = list(csv.reader(lines[start:]))
    header, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
    units = body.pop(0) if body and not body[0][0] else [""] * len(header)
    column = {name: i for i, name in enumerate(header)}
    for metric, others in ALIASES.items():
        if metric not in column:
            column.update({metric: column[o] for o in others if o in column})
    missing = [m for m in METRICS if m not in column]
    if missing:
        raise ValueError(f"ncu's CSV lacks the metric(s) {', '.join(missing)}: this ncu may spell them otherwise")
    scale = _TIME_UNITS_US.get(units[column[DURATION]].strip(), 1e-3)  # ncu's base unit is the nanosecond
    kernels = []
    for row in body:
        if not row[0].strip().isdigit():
            continue
        value = {m: _number(row[column[m]]) for m in METRICS}
        kernels.append(KernelProfile(name=row[column["Kernel Name"]], duration_us=(value[DURATION] or 0.0) * scale,
                                     dram_throughput_pct=value[DRAM], memory_throughput_pct=value[MEMORY],
                                     sm_throughput_pct=value[SM]))  # fmt: skip
    return kernels


def _weighted(kernels: list[KernelProfile], field: str) -> float | None:
    pairs = [(k.duration_us, getattr(k, field)) for k in kernels if getattr(k, field) is not None]
    total = sum(d for d, _ in pairs)
    if not pairs:
        return None
    return sum(d * v for d, v in pairs) / total if total > 0 else sum(v for _, v in pairs) / len(pairs)


def summarize(kernels: list[KernelProfile], command: str) -> Profile:
    """The call's figures: each throughput averaged over its kernels, weighted by their durations."""
    memory, sm = _weighted(kernels, "memory_throughput_pct"), _weighted(kernels, "sm_throughput_pct")
    return Profile(dram_throughput_pct=_weighted(kernels, "dram_throughput_pct"), memory_throughput_pct=memory,
                   sm_throughput_pct=sm, limiter=limiter(memory, sm), duration_us=sum(k.duration_us for k in kernels),
                   kernels=tuple(kernels), command=command)  # fmt: skip


# ---------------------------------------------------------------- the child: python -m pytest_solbench.worker.profile FILE


def run_profiled_call(request: ItemRequest) -> None:
    """Build the inputs and the kernel as a worker does, call it once to warm up (JIT, autotuning), then once inside
    the NVTX range ncu profiles, on inputs seeded as the timed calls' first copy."""
    import contextlib

    import torch

    from pytest_solbench.data import inputs
    from pytest_solbench.data import kernels
    from pytest_solbench.worker.execute import _call, _compiled, _kernel, _problem, _sync, _workload
    from pytest_solbench.worker.rounds import make_problem_inputs, round_seed

    problem = _problem(request.definition_path, request.blob_root, request.bind_by_name)
    definition = problem.definition
    workload = _workload(problem, request.workload_uuid)
    axis_values = workload.axis_values
    fn, dps, _ = _kernel(kernels.KernelSpec.from_payload(request.kernel), definition, guard=False)
    if request.compile_kernel:
        fn = _compiled(fn)
    device = request.device
    args = make_problem_inputs(problem, workload, axis_values, round_seed(request.seed, workload.uuid, 10_000),
                               device, request.blob_root)  # fmt: skip
    warm_args = inputs.clone_inputs(args)
    outputs = [inputs.allocate_outputs(definition, axis_values, device) if dps else None for _ in range(2)]
    on_gpu = device.startswith("cuda")
    with torch.no_grad():
        _call(fn, warm_args, outputs[0])
        _sync(device)
        with torch.cuda.nvtx.range(NVTX_RANGE) if on_gpu else contextlib.nullcontext():
            _call(fn, args, outputs[1])
        _sync(device)


def main(argv: list[str] | None = None) -> int:
    """``python -m pytest_solbench.worker.profile REQUEST.json``: one warm-up call, then the profiled call."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m pytest_solbench.worker.profile REQUEST.json (written by --solbench-profile)", file=sys.stderr)
        return 2
    try:
        request = read_request(Path(args[0]))
    except (OSError, ValueError) as exc:
        print(f"solbench profile: cannot read the request: {exc}", file=sys.stderr)
        return 2
    try:
        run_profiled_call(request)
    except Exception as exc:
        from pytest_solbench.worker.execute import _short_traceback

        print(f"solbench profile: the kernel's call failed: {_short_traceback(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

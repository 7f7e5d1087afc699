"""The session's state, registered as a plugin only when ``--solbench`` is on: kernels, device, bounds, results."""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from . import kernels as kernels_mod
from .dtypes import MIN_CAPABILITY
from .device import DeviceInfo, detect_device
from .items import KernelErrorItem, SolbenchFailure, SolbenchItem, precision_mark
from .options import Settings
from .report import PASSED, SKIPPED, ItemResult, TraceWriter, format_table
from .trace import Problem, TraceError, Workload

SESSION_KEY = pytest.StashKey["SolbenchSession"]()
EXECUTE_TARGET = "pytest_solbench.execute:run_item"


class SolbenchSession:
    """Everything the items share; one per pytest process (under xdist, one per worker plus the controller)."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config, self.settings = config, settings
        found, self.kernel_errors = kernels_mod.discover(list(settings.kernel_dirs))
        self._kernels: dict[str, list[kernels_mod.KernelSpec]] = {}
        for spec in found:
            self._kernels.setdefault(spec.definition, []).append(spec)
        self.definitions_seen: set[str] = set()
        self.results: list[ItemResult] = []
        self._writer: TraceWriter | None = None
        self._device: DeviceInfo | None = None
        self.hardware_note = ""
        self.ceilings: dict[str, Any] | None = None  # measured peaks, with --solbench-ceilings measured
        self._datasheet_row: Any = None
        self._hardware: Any = None
        self._work: dict[tuple[str, str], Any] = {}
        self._baselines: dict[tuple[str, str], float | None] = {}
        self._stored: dict[str, dict[str, float]] | None = None
        if settings.baseline not in ("reference", "compile"):
            from .report import load_baseline_times

            try:
                self._stored = load_baseline_times(Path(settings.baseline))
            except ValueError as exc:
                raise pytest.UsageError(f"--solbench-baseline: {exc}") from None

    # ------------------------------------------------------------ lazily known facts

    @property
    def device(self) -> DeviceInfo:
        if self._device is None:
            self._device = detect_device(self.settings.device, self.gpu_index)
        return self._device

    @property
    def gpu_index(self) -> int:
        """The GPU this pytest process times on: the xdist worker's number (gw1 → 1), else 0."""
        workerinput = getattr(self.config, "workerinput", None)
        return int(str(workerinput["workerid"]).lstrip("gw") or 0) if workerinput else 0

    @property
    def visible_gpu(self) -> str:
        """CUDA_VISIBLE_DEVICES for this process's kernel workers: the one GPU it owns."""
        visible = [p.strip() for p in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if p.strip()]
        return visible[self.gpu_index] if self.gpu_index < len(visible) else str(self.gpu_index)

    @property
    def hardware(self) -> Any:
        """The hardware row bounds are computed for: a conftest hook, the option, the GPU at hand, or H100 SXM."""
        if self._hardware is None:
            from . import hardware

            row = self.config.hook.pytest_solbench_hardware(config=self.config, device_name=self.device.name)
            if row is None and self.settings.hardware:
                try:
                    row = hardware.lookup(self.settings.hardware)
                except KeyError as exc:
                    raise pytest.UsageError(f"--solbench-hardware: {exc.args[0]}") from None
            if row is None and self.device.kind == "cuda":
                row = hardware.identify(self.device.name, self.device.memory_bytes, self.device.sm_count)
                if row is None:
                    self.hardware_note = (f"{self.device.name} is not in the hardware table: bounds use H100 SXM; "
                                          "name a row with --solbench-hardware or add one with pytest_solbench_hardware")  # fmt: skip
            self._hardware = row if row is not None else hardware.lookup("h100_sxm")
        return self._hardware

    @property
    def baseline_name(self) -> str:
        return {"reference": "the reference, timed the same way",
                "compile": "torch.compile of the reference, timed the same way"}.get(
            self.settings.baseline, f"stored times from {self.settings.baseline}")  # fmt: skip

    @property
    def stored_baselines(self) -> dict[str, dict[str, float]] | None:
        """Baseline times read from a file (``--solbench-baseline FILE``), keyed by definition, then workload uuid."""
        if self.settings.baseline in ("reference", "compile"):
            return None
        return self._stored

    def kernels_for(self, definition: str) -> list[kernels_mod.KernelSpec]:
        return self._kernels.get(definition, [])

    def note_problem(self, problem: Problem) -> None:
        self.definitions_seen.add(problem.definition.name)

    # ------------------------------------------------------------ pytest hooks (this object is a plugin)

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        hw = self.hardware
        dev = self.device
        where = f"{dev.name} ({dev.sm}, driver {dev.driver})" if dev.kind == "cuda" else f"CPU ({dev.name or 'host'})"
        bw = getattr(hw, "dram_bandwidth_gb_s", 0) / 1000
        bf16 = getattr(hw, "peak_tflops", {}).get("bf16")
        lines = [
            f"solbench: device {where}; bounds for {hw.name} ({bw:.2f} TB/s, {bf16} TFLOP/s bf16 dense)",
            f"solbench: isolate {self.settings.isolate}; seed {self.settings.seed}; {self.settings.rounds} correctness "
            f"rounds; baseline: {self.baseline_name}",
        ]
        if dev.kind == "cuda" and os.environ.get("TRITON_INTERPRET", "0") not in ("", "0"):
            lines.append("solbench: WARNING TRITON_INTERPRET is set: Triton kernels run in its interpreter, and their "
                         "times mean nothing")  # fmt: skip
        if self.hardware_note:
            lines.append(f"solbench: WARNING {self.hardware_note}")
        if dev.kind == "cpu":
            lines.append(
                "solbench: CPU mode: correctness and SOL bounds only, no timing; workloads whose growing tensors "
                f"exceed {self.settings.cpu_max_elements:,} elements are skipped"
            )
        return lines

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list) -> None:
        for error in self.kernel_errors:
            items.append(KernelErrorItem.from_parent(session, name=f"kernel-error[{error.path.name}]", error=error))
        if config.args_source == pytest.Config.ArgsSource.ARGS:
            return  # the user chose the problems: kernels for others are not orphans
        for definition, specs in sorted(self._kernels.items()):
            if definition not in self.definitions_seen:
                for spec in specs:
                    error = TraceError(spec.path, "definition", f"no collected problem defines {definition!r}")
                    items.append(KernelErrorItem.from_parent(session, name=f"kernel-error[{spec.name}]", error=error))

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" or hasattr(self.config, "workerinput"):
            return  # results are recorded during the call; under xdist, the controller alone writes them
        for key, value in report.user_properties:
            if key == "solbench" and isinstance(value, dict):
                result = ItemResult.from_dict(value)
                self.results.append(result)
                if self.settings.json_path is not None:
                    if self._writer is None:
                        self._writer = TraceWriter(self.settings.json_path)
                    self._writer.write(result)
                self.config.hook.pytest_solbench_result(config=self.config, result=result)

    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        """INVALID_REFERENCE is the problem's fault, not the kernel's: it counts as an error (DESIGN §9)."""
        if report.when == "call" and report.failed:
            for key, value in report.user_properties:
                if key == "solbench" and isinstance(value, dict) and value.get("status") == "INVALID_REFERENCE":
                    return "error", "E", "ERROR"
        return None

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.results or terminalreporter.verbosity < 0:
            return
        shown = [r for r in self.results if r.status != SKIPPED]
        terminalreporter.section("solbench: speed of light")
        if self.settings.bounds_only:
            from .report import format_bounds

            lines = format_bounds(shown, self.hardware.name)
        else:
            lines = format_table(shown, width=max(80, terminalreporter._tw.fullwidth))
        for line in lines:
            terminalreporter.write_line(line)
        if self.ceilings:
            from .report import format_ceilings

            for line in format_ceilings(self.ceilings):
                terminalreporter.write_line(line)
        skipped = len(self.results) - len(shown)
        if skipped:
            terminalreporter.write_line(f"({skipped} items skipped; -rs lists why)")
        if self.settings.json_path is not None:
            terminalreporter.write_line(f"traces written to {self.settings.json_path}")

    def pytest_sessionfinish(self) -> None:
        if self._writer is not None:
            self._writer.close()

    # ------------------------------------------------------------ one item

    def work_for(self, problem: Problem, workload: Workload) -> Any:
        """The FLOPs and bytes of a workload (cached), or the exception that says why they cannot be counted."""
        from . import sol

        key = (problem.definition.name, workload.uuid)
        if key not in self._work:
            definition = problem.definition
            axis_values = definition.axis_values(workload.axes)
            scalars = {n: s.value for n, s in workload.inputs.items() if s.kind == "scalar"}
            try:
                self._work[key] = sol.work_for(
                    definition, axis_values, count_args=lambda: _cpu_inputs(problem, workload), scalars=scalars
                )
            except Exception as exc:  # a bound we cannot compute leaves the score undefined, not the item failed
                self._work[key] = exc
        return self._work[key]

    def bound_for(self, problem: Problem, workload: Workload, sm_clock_mhz: float | None = None, hardware: Any = None) -> Any:
        """T_SOL on the session's hardware row (or ``hardware``), at the datasheet clock or at ``sm_clock_mhz``."""
        from . import sol

        work = self.work_for(problem, workload)
        if isinstance(work, Exception):
            return work
        return sol.sol_bound(work, hardware or self.hardware, sm_clock_mhz=sm_clock_mhz)

    @property
    def _datasheet(self) -> Any:
        """The hardware row before any measured ceilings replaced its peaks."""
        return self._datasheet_row or self.hardware

    def _skip_reason(self, item: SolbenchItem) -> str | None:
        definition = item.problem.definition
        precision = precision_mark(definition)
        dev = self.device
        if dev.kind == "cuda" and precision in MIN_CAPABILITY and dev.capability is not None:
            need = MIN_CAPABILITY[precision]
            if dev.capability < need:
                return f"{precision.upper()} needs sm_{need[0]}{need[1]}+, this GPU is {dev.sm}"
        if dev.kind == "cpu" and item.kernel.needs_cuda:
            return f"{item.kernel.name} is CUDA C++: it needs a GPU and nvcc"
        axis_values = definition.axis_values(item.workload.axes)
        if dev.kind == "cpu":
            # Only tensors that grow with the workload count: a model's weights (fixed shapes) are what they are.
            var = set(definition.var_axes) | {a.name for a in definition.axes.values() if a.kind == "expr"}
            largest = max(
                (
                    _numel(definition.shape_of(s, axis_values))
                    for s in (*definition.inputs, *definition.outputs)
                    if s.shape is not None and var & set(s.shape)
                ),
                default=0,
            )
            if largest > self.settings.cpu_max_elements:
                return (
                    f"too large for CPU mode: a tensor of {largest:,} elements exceeds --solbench-cpu-max-elements "
                    f"{self.settings.cpu_max_elements:,}"
                )
        for name, spec in item.workload.inputs.items():
            if spec.kind == "safetensors" and not (item.problem.root / (spec.path or "")).is_file():
                return f"input {name}: blob {item.problem.root / (spec.path or '')} is missing"
        return None

    def run_item(self, item: SolbenchItem, funcargs: dict[str, Any]) -> None:
        problem, workload, kernel = item.problem, item.workload, item.kernel
        definition = problem.definition
        bound = self.bound_for(problem, workload)
        base = self._base_record(item, bound)
        if self.settings.bounds_only:
            self._record(item, {**base, "status": PASSED})
            if isinstance(bound, Exception):
                raise SolbenchFailure("SOL_ERROR", str(bound))
            return
        reason = self._skip_reason(item)
        if reason:
            self._record(item, {**base, "status": SKIPPED, "log": reason})
            pytest.skip(reason)

        if self.device.kind == "cuda" and self.settings.ceilings == "measured" and self.ceilings is None:
            self._measure_ceilings(funcargs["solbench_runner"])
            bound = self.bound_for(problem, workload)
            base = self._base_record(item, bound)
        clocks = funcargs["solbench_clocks"]
        clock_problem = clocks.problem() if hasattr(clocks, "problem") else None
        if clock_problem:
            self._record(item, {**base, "status": "RUNTIME_ERROR", "log": clock_problem})
            raise SolbenchFailure("CLOCKS", clock_problem)
        timed = self.device.kind == "cuda"
        key = (definition.name, workload.uuid)
        stored = self.stored_baselines
        if stored is not None and key not in self._baselines:
            self._baselines[key] = stored.get(definition.name, {}).get(workload.uuid)
        # The worker times only on a GPU; the reference as kernel is its own baseline, unless compiled is asked.
        own = kernel.is_reference and self.settings.baseline == "reference"
        time_reference = not own and key not in self._baselines
        request = {
            "problem": str(definition.path),
            "uuid": workload.uuid,
            "kernel": kernel.to_payload(),
            "device": "cuda" if timed else "cpu",
            "seed": self.settings.seed,
            "rounds": self.settings.rounds,
            "time": timed,
            "time_reference": time_reference,
            "baseline": self.settings.baseline,
            "l2_flush_bytes": funcargs["solbench_l2_flush"],
            "timing": {"max_time_s": self.settings.max_time_s, "timer": self.settings.timer},
        }
        before = clocks.snapshot() if timed else None
        from .worker import WorkerError

        try:
            outcome = funcargs["solbench_runner"].call(EXECUTE_TARGET, request, self.settings.timeout_s)
        except WorkerError as exc:
            status, message = exc.status, exc.message
            lost = "CudaContextLost: "
            if message.startswith(lost):  # the kernel's own verdict, raised so that the broken worker is replaced
                status, _, message = message[len(lost):].partition(": ")
                message += "\n(the kernel broke the worker's CUDA context; the next item runs on a fresh worker)"
            log = message + (f"\n--- worker stderr (last lines) ---\n{exc.stderr_tail}" if exc.stderr_tail else "")
            self._record(item, {**base, "status": status, "log": log})
            raise SolbenchFailure(status, message, exc.stderr_tail and f"worker stderr:\n{exc.stderr_tail}") from None
        after = clocks.snapshot() if timed else None
        status = outcome["status"]
        record = {**base, "status": status, "log": outcome.get("log", ""), "correctness": outcome.get("correctness")}
        if before is not None or after is not None:
            record["clocks"] = {"before": _as_dict(before), "after": _as_dict(after), "mode": getattr(clocks, "mode", "observe")}
        if status == SKIPPED:
            self._record(item, record)
            pytest.skip(outcome.get("log", "skipped"))
        if status != PASSED:
            self._record(item, record)
            raise SolbenchFailure(status, outcome.get("log", ""))
        if "kernel_timing" in outcome:
            self._score(item, record, outcome, bound, key)
        verdict = self._gate(item, record)
        if verdict is not None and verdict.status == "REWARD_HACK":
            record.update(status=verdict.status, log=record["log"] + verdict.message + "\n")
        self._record(item, record)
        if verdict is not None:
            raise verdict

    def _measure_ceilings(self, runner: Any) -> None:
        """Measure the copy bandwidth and GEMM peaks once, in a worker; bounds from then on use them."""
        from .ceilings import apply_ceilings
        from .worker import WorkerError

        datasheet = self._datasheet_row = self.hardware
        try:
            self.ceilings = runner.call("pytest_solbench.ceilings:measure_ceilings", "cuda", self.settings.timeout_s)
        except WorkerError as exc:
            raise SolbenchFailure("RUNTIME_ERROR", f"--solbench-ceilings measured: measuring failed: {exc.message}") from None
        self.ceilings["datasheet"] = {"dram_bandwidth_gb_s": datasheet.dram_bandwidth_gb_s,
                                      "peak_tflops": dict(datasheet.peak_tflops)}  # fmt: skip
        self._hardware = apply_ceilings(datasheet, self.ceilings)

    def _score(self, item: SolbenchItem, record: dict, outcome: dict, bound: Any, key: tuple[str, str]) -> None:
        from . import sol

        from .timing import summarize

        # The headline is recomputed here from the raw samples, not taken from the worker's summary.
        t_k = summarize(outcome["kernel_timing"]["samples_ms"], outcome["kernel_timing"]["method"]).median_ms
        record["kernel_timing"] = outcome["kernel_timing"]
        if item.kernel.is_reference and self.settings.baseline == "reference":
            self._baselines[key] = t_k
        elif "reference_timing" in outcome:
            record["reference_timing"] = outcome["reference_timing"]
            timed = outcome["reference_timing"]
            self._baselines[key] = summarize(timed["samples_ms"], timed["method"]).median_ms
        t_b = self._baselines.get(key)
        record.update(t_k_ms=t_k, t_b_ms=t_b)
        if t_b is None and self.stored_baselines is not None:
            record["log"] += f"no stored baseline time for this workload in {self.settings.baseline}\n"
        if t_b:
            record["speedup"] = t_b / t_k
        if isinstance(bound, Exception):
            return
        # The compute term at the highest SM clock read around the timed phase: a bound must hold at every clock
        # the kernel may have run at, and a reading taken as power draw peaks is the lowest of them.
        readings = [(outcome["kernel_timing"].get(k) or {}).get("sm_clock_mhz") for k in ("clocks_before", "clocks_after")]
        sm_clock = max((r for r in readings if r), default=None)
        if sm_clock:
            bound = self.bound_for(item.problem, item.workload, sm_clock_mhz=sm_clock)
            record.update(t_sol_ms=bound.t_sol_ms, bound=bound.bound, sol_sm_clock_mhz=sm_clock)
        record["pct_sol"] = bound.t_sol_ms / t_k
        if t_b is not None:
            record["score"] = sol.sol_score(t_k, t_b, bound.t_sol_ms)
            if record["score"] is None:
                record["log"] += (f"SOL Score undefined: the baseline ({t_b:.4g} ms) is not slower than the bound "
                                  f"({bound.t_sol_ms:.4g} ms)\n")  # fmt: skip

    def _gate(self, item: SolbenchItem, record: dict) -> SolbenchFailure | None:
        """The checks on a passing item's numbers: physics first (no time below the datasheet bound, no hidden
        work), then the user's score floor."""
        t_k = record.get("t_k_ms")
        timing_info = record.get("kernel_timing") or {}
        if timing_info.get("hidden_work_suspected") and not self.settings.allow_below_sol:
            return SolbenchFailure("REWARD_HACK", "work outlived the timed window (side stream or deferred launch): the "
                                   "GPU stayed busy after the kernel's end event; --solbench-allow-below-sol accepts it")  # fmt: skip
        if t_k is not None and record.get("t_sol_ms") is not None and not self.settings.allow_below_sol:
            # Measured ceilings can be beaten by a good kernel; the physics check always uses the datasheet.
            floor_bound = self.bound_for(item.problem, item.workload, sm_clock_mhz=record.get("sol_sm_clock_mhz"),
                                         hardware=self._datasheet)  # fmt: skip
            if not isinstance(floor_bound, Exception) and t_k < floor_bound.t_sol_ms:
                return SolbenchFailure(
                    "REWARD_HACK",
                    f"{t_k:.4g} ms is below the speed-of-light bound {floor_bound.t_sol_ms:.4g} ms on "
                    f"{self._datasheet.name}: a wrong bound, a broken measurement or a cheat "
                    "(--solbench-allow-below-sol accepts it)",
                )
        floor = self.settings.min_score
        score = record.get("score")
        if floor is not None and (score is None or score < floor):
            shown = "undefined" if score is None else f"{score:.3f}"
            return SolbenchFailure("BELOW_MIN_SCORE", f"SOL Score {shown} is below --solbench-min-score {floor}")
        return None

    def _base_record(self, item: SolbenchItem, bound: Any) -> dict[str, Any]:
        workload = item.workload
        record: dict[str, Any] = {
            "nodeid": item.nodeid,
            "problem": item.problem.definition.name,
            "kernel": item.kernel.name,
            "workload_uuid": workload.uuid,
            "workload_label": workload.label(),
            "device": self.device.kind,
            "hardware": self.hardware.key,
            "workload": workload.to_json(),
            "seed": self.settings.seed,
            "baseline": {"reference": "reference", "compile": "torch.compile"}.get(
                self.settings.baseline, f"file:{self.settings.baseline}"),
            "environment": self._environment(),
            "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        }
        if isinstance(bound, Exception):
            record["log"] = f"no SOL bound: {bound}\n"
        else:
            record.update(t_sol_ms=bound.t_sol_ms, bound=bound.bound, flops_by_dtype=dict(bound.flops_by_dtype),
                          bytes_moved=bound.bytes_moved)  # fmt: skip
        return record

    def _environment(self) -> dict[str, Any]:
        libs: dict[str, str] = {}
        for name in ("torch", "triton"):
            try:
                libs[name] = __import__(name).__version__
            except Exception:
                pass
        try:
            import torch

            libs["cuda"] = str(torch.version.cuda)
        except Exception:
            pass
        return {"hardware": self.device.name, "libs": libs, "driver": self.device.driver}

    def _record(self, item: SolbenchItem, record: dict[str, Any]) -> None:
        # Plain JSON types only: the record crosses to the xdist controller through execnet, which refuses others
        # (torch's version string is a str subclass, for one).
        plain = json.loads(json.dumps(ItemResult.from_dict(record).to_dict(), default=str))
        item.user_properties.append(("solbench", plain))


def _cpu_inputs(problem: Problem, workload: Workload) -> list:
    """Real inputs on the CPU, for counting FLOPs of references that cannot run on meta tensors."""
    from .execute import make_problem_inputs

    definition = problem.definition
    return make_problem_inputs(problem, workload, definition.axis_values(workload.axes), seed=0, device="cpu")


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _as_dict(snapshot: Any) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    if hasattr(snapshot, "to_dict"):
        return snapshot.to_dict()
    from dataclasses import asdict, is_dataclass

    return asdict(snapshot) if is_dataclass(snapshot) else dict(snapshot)

"""One item, from its facts to its verdict: skip decisions, the worker requests, scoring, the gates.

The pytest item calls ``Pipeline.evaluate`` and turns the ``Verdict`` into an outcome; nothing here raises for a
kernel's failure. Scores come from ``scoring``, bounds from ``facts``/``sol``, the protocol from ``protocol``.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, replace
from typing import Any

from pytest_solbench.sol import facts as facts_mod
from pytest_solbench.sol import scoring
from pytest_solbench.data.dtypes import MIN_CAPABILITY, precision_of
from pytest_solbench.data.kernels import KernelSpec, missing_toolchain, reference_kernel
from pytest_solbench.options import Settings
from pytest_solbench.protocol import ItemOutcome, ItemRequest, Status, TimingRequest
from pytest_solbench.record import ItemResult
from pytest_solbench.target import Target
from pytest_solbench.data.trace import Problem, Workload

EXECUTE_TARGET = "pytest_solbench.worker.execute:run_item"
FLOOR_MARGIN = 0.03  # a time this far under the physical floor is REWARD_HACK; nearer, measurement noise
PROVISIONAL = ("bytes provisional: the reference's reads follow the data (indices, offsets) and were not seen on "
               "real inputs, so every input counts whole\n")  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    """An item's result: its record, and how pytest should report it ("passed", "failed", "skipped", "error"),
    with the failure text: ``word`` first (the status, or a gate's name), the message, then any details."""

    record: ItemResult
    outcome: str
    message: str = ""
    word: str = ""
    details: str = ""

    @property
    def text(self) -> str:
        head = f"{self.word or self.record.status}: {self.message}"
        return head + (f"\n{self.details}" if self.details else "")


@dataclass(frozen=True)
class _Crash:
    """A call that did not return an outcome: the worker raised, died or hung."""

    status: str
    message: str
    log: str
    details: str


class Pipeline:
    """The per-process state items share: workload facts, baseline times, measured ceilings, static findings.

    One class of one-step methods (larger than most here) because every step reads the same per-process caches;
    the pure parts it calls (facts, sol, scoring, guard, protocol) hold the logic."""

    def __init__(self, settings: Settings, target: Target) -> None:
        self.settings, self.target = settings, target
        self.facts = facts_mod.Facts()
        self.hardware = target.hardware  # measured ceilings replace its peaks (--solbench-ceilings measured)
        self.ceilings: dict[str, Any] | None = None
        self._baselines: dict[tuple[str, str], float | None] = {}
        self._environment: dict[str, Any] | None = None
        self._findings: dict[tuple[str, str, str], list[Any]] = {}
        self.regression: Any = None  # gates.RunGates.regression with --solbench-compare: a record's slowdown, or None

    # ------------------------------------------------------------ decisions taken before any input exists

    def skip_reason(self, problem: Problem, workload: Workload, kernel: KernelSpec) -> str | None:
        definition, device = problem.definition, self.target.device
        precision = precision_of(definition)
        if device.kind == "cuda" and precision in MIN_CAPABILITY and device.capability is not None:
            need = MIN_CAPABILITY[precision]
            if device.capability < need:
                return f"{precision.upper()} needs sm_{need[0]}{need[1]}+, this GPU is {device.sm}"
        missing = missing_toolchain(kernel, device.kind)
        if missing:
            return missing
        facts = self.facts.of(problem, workload)
        if device.kind == "cpu" and facts.largest_growing_elements > self.settings.cpu_max_elements:
            return (f"too large for CPU mode: a tensor of {facts.largest_growing_elements:,} elements exceeds "
                    f"--solbench-cpu-max-elements {self.settings.cpu_max_elements:,}")  # fmt: skip
        if facts.missing_blob:
            return f"input blob {facts.missing_blob} is missing"
        return None

    # ------------------------------------------------------------ one item

    def evaluate(self, problem: Problem, workload: Workload, kernel: KernelSpec, nodeid: str, label: str,
                 fixtures: dict[str, Any]) -> Verdict:  # fmt: skip
        facts = self.facts.of(problem, workload)
        base = self._base_record(problem, workload, kernel, nodeid, label, facts)
        if self.settings.bounds_only:
            return self._bounds_only(problem, workload, base)
        # The static rules first: a cheating kernel fails wherever it is collected, GPU or not.
        findings = self.static_findings(problem, kernel)
        if findings:
            first = findings[0]
            more = f" (and {len(findings) - 1} more finding(s))" if len(findings) > 1 else ""
            allow = "" if self.settings.guard == "strict" else (
                f"; if it is honest, allow it with SOLBENCH_ALLOW = {{{first.rule!r}: 'why'}}")  # fmt: skip
            return self._hack(base, first.rule, f"{first.path}:{first.line}: {first.message}{more}{allow}")
        reason = self.skip_reason(problem, workload, kernel)
        if reason:
            return Verdict(replace(base, status="SKIPPED", log=reason), "skipped", reason)
        timed = self.target.timed
        runner, clocks = fixtures["solbench_runner"], fixtures["solbench_clocks"]
        if timed and self.settings.ceilings == "measured" and self.ceilings is None:
            failed = self._measure_ceilings(runner, base)
            if failed is not None:
                return failed
            facts, base = self.facts.of(problem, workload), replace(base, hardware=self.hardware.key)
        clock_problem = clocks.problem() if hasattr(clocks, "problem") else None
        if clock_problem:
            return self._failed(base, "RUNTIME_ERROR", clock_problem, word="CLOCKS")
        request = self._request(problem, workload, kernel, facts, fixtures["solbench_l2_flush"])
        before = clocks.snapshot() if timed else None
        outcome = self._call(runner, request)
        if isinstance(outcome, _Crash):
            record = replace(base, status=outcome.status, log=outcome.log)
            return self._failed(record, outcome.status, outcome.message, details=outcome.details)
        after = clocks.snapshot() if timed else None
        record = replace(base, status=outcome.status.value, log=outcome.log, correctness=outcome.correctness,
                         rule=outcome.rule, clocks=_clocks(before, after, clocks) if timed else None)  # fmt: skip
        if outcome.flops_by_dtype is not None:
            facts = self.facts.learn_flops(problem, workload, outcome.flops_by_dtype)
            record = _with_bound(record, facts, self.hardware)
        if outcome.touched_bytes is not None:
            facts = self.facts.learn_touched(problem, workload, outcome.touched_bytes)
            record = _with_bound(record, facts, self.hardware)
        if outcome.status is Status.SKIPPED:
            return Verdict(record, "skipped", outcome.log)
        if outcome.status is not Status.PASSED:
            return self._failed(record, outcome.status.value, outcome.log)
        if outcome.kernel_timing is not None:
            record = self._score(problem, workload, kernel, facts, record, outcome, runner, fixtures)
            if self.settings.profile:
                record = replace(record, profile=self._profile(request))
        return self._gate(record, outcome)

    def _profile(self, request: ItemRequest) -> dict[str, Any]:
        """Nsight Compute on one call of the kernel, in a process of its own; the verdict does not depend on it."""
        from pytest_solbench.worker import profile

        result = profile.profile_item(request, timeout_s=max(120.0, 3 * self.settings.timeout_s),
                                      env={"CUDA_VISIBLE_DEVICES": self.target.visible_gpu})  # fmt: skip
        return profile.as_record(result)

    def static_findings(self, problem: Problem, kernel: KernelSpec) -> list[Any]:
        """The guard's static rules over a kernel's sources, once per kernel and definition."""
        if self.settings.guard == "off" or kernel.is_reference:
            return []
        key = (kernel.name, str(kernel.path), problem.definition.name)
        if key not in self._findings:
            from pytest_solbench.guard import rules as guard
            from pytest_solbench.data.kernels import kernel_sources

            definition = problem.definition
            sources = kernel_sources(kernel)
            solution = _solution_json(kernel)
            allowed = {} if self.settings.guard == "strict" else guard.allowances(sources, solution)
            dtypes = [s.dtype for s in (*definition.inputs, *definition.outputs)]
            self._findings[key] = guard.scan_sources(sources, definition_name=definition.name,
                                                     op_type=definition.op_type, allowed=allowed, dtypes=dtypes,
                                                     entry_point=kernel.entry_symbol, solution=solution)  # fmt: skip
        return self._findings[key]

    def _request(self, problem: Problem, workload: Workload, kernel: KernelSpec, facts: Any, l2_flush: Any,
                 *, rounds: int | None = None, compile_kernel: bool = False) -> ItemRequest:  # fmt: skip
        return ItemRequest(
            definition_path=str(problem.definition.path),
            workload_uuid=workload.uuid,
            kernel=kernel.to_payload(),
            device="cuda" if self.target.timed else "cpu",
            seed=self.settings.seed,
            rounds=self.settings.rounds if rounds is None else rounds,
            time_kernel=self.target.timed,
            compile_kernel=compile_kernel,
            timing=TimingRequest(self.settings.max_time_s, self.settings.timer, l2_flush),
            reduction_len=facts.reduction_len,
            count_flops=facts.needs_real_inputs and facts.work is None,
            count_touched=facts.bytes_provisional,
            guard=self.settings.guard != "off",
            blob_root=str(self.settings.blob_root) if self.settings.blob_root else None,
            bind_by_name=self.settings.bind_by_name,
        )

    def _call(self, runner: Any, request: ItemRequest) -> ItemOutcome | _Crash:
        from pytest_solbench.worker.pool import WorkerError

        try:
            outcome = runner.call(EXECUTE_TARGET, request, self.settings.timeout_s)
        except WorkerError as exc:
            status, message = exc.status, exc.message
            lost = "CudaContextLost: "
            if message.startswith(lost):  # the kernel's own verdict, raised so that the broken worker is replaced
                status, _, message = message[len(lost):].partition(": ")
                message += "\n(the kernel broke the worker's CUDA context; the next item runs on a fresh worker)"
            log = message + (f"\n--- worker stderr (last lines) ---\n{exc.stderr_tail}" if exc.stderr_tail else "")
            return _Crash(status, message, log, f"worker stderr:\n{exc.stderr_tail}" if exc.stderr_tail else "")
        if not isinstance(outcome, ItemOutcome):
            raise TypeError(f"the runner returned {type(outcome).__name__}, not a protocol.ItemOutcome")
        return outcome

    # ------------------------------------------------------------ figures

    def _score(self, problem: Problem, workload: Workload, kernel: KernelSpec, facts: Any, record: ItemResult,
               outcome: ItemOutcome, runner: Any, fixtures: dict[str, Any]) -> ItemResult:  # fmt: skip
        from pytest_solbench.measure.timing import summarize

        timing = outcome.kernel_timing or {}
        # The headline is recomputed here from the raw samples, not taken from the worker's summary.
        t_k = summarize(timing["samples_ms"], timing["method"]).median_ms
        t_b, log = self._baseline(problem, workload, kernel, facts, t_k, runner, fixtures)
        record = replace(record, kernel_timing=timing, t_k_ms=t_k, log=record.log + log)
        if facts.work is None:
            return replace(record, t_b_ms=t_b, speedup=scoring.figures(t_k, t_b, None).speedup)
        # The compute term at the highest SM clock read around the timed phase: a bound must hold at every clock
        # the kernel may have run at, and a reading taken as power draw peaks is the lowest of them.
        readings = [(timing.get(k) or {}).get("sm_clock_mhz") for k in ("clocks_before", "clocks_after")]
        sm_clock = max((r for r in readings if r), default=None)
        bound = facts_mod.bound(facts, self.hardware, sm_clock)
        floor = facts_mod.floor_ms(facts, self.target.hardware, sm_clock)  # the datasheet: ceilings can be beaten
        shown = scoring.figures(t_k, t_b, bound.t_sol_ms)
        note = (f"{shown.note}\n" if shown.note else "") + (PROVISIONAL if facts.bytes_provisional else "")
        return replace(record, t_b_ms=t_b, t_sol_ms=bound.t_sol_ms, bound=bound.bound, sol_sm_clock_mhz=sm_clock,
                       floor_ms=floor, pct_sol=shown.pct_sol, speedup=shown.speedup, score=shown.score,
                       log=record.log + note)  # fmt: skip

    def _baseline(self, problem: Problem, workload: Workload, kernel: KernelSpec, facts: Any, t_k: float,
                  runner: Any, fixtures: dict[str, Any]) -> tuple[float | None, str]:  # fmt: skip
        """T_b: the kernel's own time when it is the reference, a stored time, or the baseline timed once per
        workload in the reference's own worker (which never imports kernel code)."""
        key = (problem.definition.name, workload.uuid)
        mode = self.settings.baseline
        if kernel.is_reference and mode == "reference":
            self._baselines[key] = t_k
        if self.target.stored_times is not None:
            stored = self.target.stored_time(*key)
            return stored, "" if stored is not None else f"no stored baseline time for this workload in {mode}\n"
        if key in self._baselines:
            return self._baselines[key], ""
        request = self._request(problem, workload, reference_kernel(problem.definition), facts,
                                fixtures["solbench_l2_flush"], rounds=0, compile_kernel=mode == "compile")  # fmt: skip
        outcome = self._call(runner, request)
        if isinstance(outcome, _Crash) or outcome.kernel_timing is None:
            why = outcome.message if isinstance(outcome, _Crash) else outcome.log
            self._baselines[key] = None
            return None, f"timing the baseline failed: {why}\n"
        from pytest_solbench.measure.timing import summarize

        timing = outcome.kernel_timing
        self._baselines[key] = summarize(timing["samples_ms"], timing["method"]).median_ms
        return self._baselines[key], ""

    # ------------------------------------------------------------ gates

    def _gate(self, record: ItemResult, outcome: ItemOutcome) -> Verdict:
        """Physics first (no time below the physical floor, no hidden work), then the user's score floor."""
        allow = self.settings.allow_below_sol
        timing = record.kernel_timing or {}
        if timing.get("hidden_work_suspected") and not allow:
            return self._hack(record, "hidden-work", "work outlived the timed window (side stream or deferred "
                              "launch): the GPU stayed busy after the kernel's end; --solbench-allow-below-sol "
                              "accepts it")  # fmt: skip
        if record.t_k_ms is not None and record.floor_ms is not None and not allow:
            if scoring.below_floor(record.t_k_ms, record.floor_ms, FLOOR_MARGIN):
                return self._hack(record, "below-physical-floor",
                                  f"{record.t_k_ms:.4g} ms is below the physical floor {record.floor_ms:.4g} ms on "
                                  f"{self.target.hardware.name} (T_SOL {record.t_sol_ms:.4g} ms): a wrong bound, a "
                                  "broken measurement or a cheat (--solbench-allow-below-sol accepts it)")  # fmt: skip
        gate = scoring.min_score_failure(record.score, self.settings.min_score)
        if gate:
            return self._failed(record, record.status, gate, word="BELOW_MIN_SCORE")
        slower = self.regression(record) if self.regression is not None else None
        if slower:
            return self._failed(record, record.status, slower, word="SLOWER")
        return Verdict(record, "passed")

    def _hack(self, record: ItemResult, rule: str, message: str) -> Verdict:
        """REWARD_HACK under the rule's name, first in the failure text."""
        record = replace(record, status="REWARD_HACK", rule=rule, score=None, log=record.log + f"[{rule}] {message}\n")
        return Verdict(record, "failed", f"[{rule}] {message}")

    def _failed(self, record: ItemResult, status: str, message: str, word: str = "", details: str = "") -> Verdict:
        record = replace(record, status=status, log=record.log or message)
        outcome = "error" if status == Status.INVALID_REFERENCE.value else "failed"
        return Verdict(record, outcome, message, word, details)

    # ------------------------------------------------------------ special runs

    def _bounds_only(self, problem: Problem, workload: Workload, base: ItemResult) -> Verdict:
        facts = self.facts.of(problem, workload)
        if facts.work is None and facts.needs_real_inputs:
            if facts.largest_growing_elements > self.settings.cpu_max_elements:
                why = (f"{facts.work_error} (counting on real inputs was not tried: a tensor of "
                       f"{facts.largest_growing_elements:,} elements exceeds --solbench-cpu-max-elements)")  # fmt: skip
                return self._failed(replace(base, status="PASSED"), "PASSED", why, word="SOL_ERROR")
            from pytest_solbench.worker.rounds import make_problem_inputs
            from pytest_solbench.sol.bound import work_for

            try:  # sol.work_for's own fallback: the reference on real CPU inputs
                work = work_for(problem.definition, facts.axis_values,
                                count_args=lambda: make_problem_inputs(problem, workload, facts.axis_values, 0, "cpu"))
            except Exception as exc:  # SolError names the field; anything else, its own words
                return self._failed(base, "PASSED", str(getattr(exc, "message", exc)), word="SOL_ERROR")
            facts = self.facts.learn_flops(problem, workload, work.flops_by_dtype)
            base = _with_bound(base, facts, self.hardware)
        if facts.bytes_provisional and facts.largest_growing_elements <= self.settings.cpu_max_elements:
            facts = self._touched_on_cpu(problem, workload)
            base = _with_bound(base, facts, self.hardware)
        if facts.bytes_provisional:
            base = replace(base, log=base.log + PROVISIONAL)
        if facts.work is None:
            return self._failed(base, "PASSED", f"no SOL bound: {facts.work_error}", word="SOL_ERROR")
        return Verdict(replace(base, status="PASSED"), "passed")

    def _touched_on_cpu(self, problem: Problem, workload: Workload) -> Any:
        """The bytes the timed inputs reach (the worker's seed for them), found here on the CPU; provisional bytes
        stay when the reference fails on them."""
        from pytest_solbench.sol.touched import input_bytes, touched_bytes
        from pytest_solbench.worker.rounds import TIMED_ROUND, make_problem_inputs, round_seed
        from pytest_solbench.data.kernels import reference_namespace

        definition, facts = problem.definition, self.facts.of(problem, workload)
        try:
            seed = round_seed(self.settings.seed, workload.uuid, TIMED_ROUND)
            args = make_problem_inputs(problem, workload, facts.axis_values, seed, "cpu")
            run = definition.positional_reference(reference_namespace(definition)["run"])
            touched = input_bytes(definition, touched_bytes(run, args))
        except Exception:
            return facts
        return self.facts.learn_touched(problem, workload, touched)

    def _measure_ceilings(self, runner: Any, base: ItemResult) -> Verdict | None:
        """Measure the copy bandwidth and GEMM peaks once, in the harness's own worker; bounds from then on use
        them (the physical floor keeps the datasheet: a good kernel can beat a measured ceiling)."""
        from pytest_solbench.sol.ceilings import apply_ceilings
        from pytest_solbench.worker.pool import WorkerError

        datasheet = self.target.hardware
        try:
            measured = runner.call("pytest_solbench.sol.ceilings:measure_ceilings", "cuda", self.settings.timeout_s)
        except WorkerError as exc:
            why = f"--solbench-ceilings measured: measuring failed: {exc.message}"
            return self._failed(base, "RUNTIME_ERROR", why)
        measured["datasheet"] = {"dram_bandwidth_gb_s": datasheet.dram_bandwidth_gb_s,
                                 "peak_tflops": dict(datasheet.peak_tflops)}  # fmt: skip
        self.ceilings, self.hardware = measured, apply_ceilings(datasheet, measured)
        return None

    # ------------------------------------------------------------ records

    def _base_record(self, problem: Problem, workload: Workload, kernel: KernelSpec, nodeid: str, label: str,
                     facts: Any) -> ItemResult:  # fmt: skip
        record = ItemResult(
            nodeid=nodeid,
            problem=problem.definition.name,
            kernel=kernel.name,
            workload_uuid=workload.uuid,
            workload_label=label,
            status="PASSED",
            device=self.target.device.kind,
            hardware=self.hardware.key,
            workload=workload.to_json(),
            seed=self.settings.seed,
            baseline=self.target.baseline_label,
            environment=self.environment(),
            timestamp=_dt.datetime.now(_dt.timezone.utc).isoformat(),
        )
        if facts.work is None:
            return replace(record, log=f"no SOL bound: {facts.work_error}\n" if not facts.needs_real_inputs else "")
        return _with_bound(record, facts, self.hardware)

    def environment(self) -> dict[str, Any]:
        if self._environment is None:
            libs: dict[str, str] = {}
            for name in ("torch", "triton"):
                try:
                    libs[name] = str(__import__(name).__version__)
                except Exception:
                    pass
            try:
                import torch

                libs["cuda"] = str(torch.version.cuda)
            except Exception:
                pass
            device = self.target.device
            self._environment = {"hardware": device.name, "libs": libs, "driver": device.driver}
        return self._environment


def _solution_json(kernel: KernelSpec) -> dict[str, Any] | None:
    if kernel.path.suffix != ".json":
        return None
    try:
        data = json.loads(kernel.path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _with_bound(record: ItemResult, facts: Any, hardware: Any) -> ItemResult:
    bound = facts_mod.bound(facts, hardware)
    if bound is None:
        return record
    return replace(record, t_sol_ms=bound.t_sol_ms, bound=bound.bound, flops_by_dtype=dict(bound.flops_by_dtype),
                   bytes_moved=bound.bytes_moved)  # fmt: skip


def _clocks(before: Any, after: Any, clocks: Any) -> dict[str, Any]:
    return {"before": _as_dict(before), "after": _as_dict(after), "mode": getattr(clocks, "mode", "observe")}


def _as_dict(snapshot: Any) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    if hasattr(snapshot, "to_dict"):
        return snapshot.to_dict()
    from dataclasses import asdict, is_dataclass

    return asdict(snapshot) if is_dataclass(snapshot) else dict(snapshot)


def plain(record: ItemResult) -> dict[str, Any]:
    """The record as plain JSON types: it crosses to the xdist controller through execnet, which refuses others
    (torch's version string is a str subclass, for one)."""
    return json.loads(json.dumps(record.to_dict(), default=str))

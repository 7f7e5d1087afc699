"""One item, from its facts to its verdict: the order of the steps and the per-process caches they share.

The pytest item calls ``Pipeline.evaluate`` and turns the ``Verdict`` into an outcome; nothing here raises for a
kernel's failure. The steps live in modules of their own: ``prechecks`` (static findings, skips), ``calls`` (the
worker requests), ``figures`` (bound and scores, each once), ``verdict`` (the gates); facts from ``sol.facts``.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import replace
from typing import Any

from pytest_solbench import calls, figures, prechecks
from pytest_solbench.calls import Crash
from pytest_solbench.data.kernels import KernelSpec, reference_kernel
from pytest_solbench.data.schema import Problem, Workload
from pytest_solbench.options import Settings
from pytest_solbench.protocol import ItemRequest, Status
from pytest_solbench.record import ItemResult
from pytest_solbench.sol import facts as facts_mod
from pytest_solbench.sol.facts import WorkloadFacts
from pytest_solbench.target import Target
from pytest_solbench.verdict import Verdict, failed, gate, hack


class Pipeline:
    """The per-process state items share: workload facts, baseline times, measured ceilings, static findings."""

    def __init__(self, settings: Settings, target: Target) -> None:
        self.settings, self.target = settings, target
        self.facts = facts_mod.Facts()
        self.hardware = target.hardware  # measured ceilings replace its peaks (--solbench-ceilings measured)
        self.ceilings: dict[str, Any] | None = None
        self._baselines: dict[tuple[str, str, str], float | None] = {}  # (definition, workload, GPU model or "")
        self._environment: dict[str, Any] | None = None
        self._findings: dict[tuple[str, str, str], list[Any]] = {}
        self._called: set[tuple[str, str]] = set()  # kernels (name, path) past their first workload
        self._planned: dict[str, ItemRequest] = {}  # nodeid -> the request plan() made, sent as it is
        self._planned_baselines: dict[tuple[str, str], ItemRequest] = {}
        self._rows: dict[str, Any] = {}  # hardware key -> the row of a GPU a runner placed an item on (Ray)
        self.regression: Any = None  # gates.RunGates.regression with --solbench-compare: a record's slowdown, or None

    @property
    def timeout_s(self) -> float:
        """One call's limit: --solbench-timeout, else the device's default."""
        if self.settings.timeout_s is not None:
            return self.settings.timeout_s
        return calls.GPU_TIMEOUT_S if self.target.timed else calls.CPU_TIMEOUT_S

    def _request(self, problem: Problem, workload: Workload, kernel: KernelSpec, facts: WorkloadFacts, l2_flush: Any,
                 **fields: Any) -> ItemRequest:  # fmt: skip
        """The request for one kernel on one workload, with its limit: a kernel's first workload on a GPU builds,
        autotunes and warms up, so it gets ``FIRST_CALL_ALLOWANCE`` times the timeout."""
        key = (kernel.name, str(kernel.path))
        first = key not in self._called
        self._called.add(key)
        allow = calls.FIRST_CALL_ALLOWANCE if first and self.target.timed else 1
        return calls.item_request(self.settings, self.target.timed, problem, workload, kernel, facts, l2_flush,
                                  timeout_s=self.timeout_s * allow, **fields)  # fmt: skip

    def _send(self, runner: Any, request: ItemRequest, gpu: str | None = None) -> Any:
        """The request to the runner (the judge, unless --solbench-isolate none), held to the request's limit."""
        allow = round(request.timeout_s / self.timeout_s)
        words = f"--solbench-timeout {self.timeout_s:g}" + (f", x{allow} for a kernel's first workload" if allow > 1
                                                             else "")  # fmt: skip
        return calls.call(runner, request, request.timeout_s, judged=self.settings.isolate != "none", gpu=gpu,
                          limit_words=words)  # fmt: skip

    def evaluate(self, problem: Problem, workload: Workload, kernel: KernelSpec, nodeid: str, label: str,
                 fixtures: dict[str, Any]) -> Verdict:  # fmt: skip
        facts = self.facts.of(problem, workload)
        base = self._base_record(problem, workload, kernel, nodeid, label, facts)
        verdict = self._decide(problem, workload, kernel, facts, base, fixtures)
        if verdict.record.t_sol_ms is not None:
            return verdict  # the bound was computed at the clock the kernel ran at
        # Every other path: the bound once, at the hardware row's clock, from the facts as they ended up.
        hardware = self._rows.get(verdict.record.hardware, self.hardware)
        record = figures.with_bound(verdict.record, self.facts.of(problem, workload), hardware)
        return replace(verdict, record=record)

    def plan(self, problem: Problem, workload: Workload, kernel: KernelSpec, nodeid: str,
             l2_flush: Any) -> tuple[ItemRequest | None, ItemRequest | None]:  # fmt: skip
        """The requests ``evaluate`` will send for this item, made before it runs so that a runner can start them
        early (Ray): the kernel's (None when the item is decided without a worker) and the workload's baseline (None
        when none will be timed here, or another item already planned it). ``evaluate`` sends these very requests."""
        facts = self.facts.of(problem, workload)
        if (self.settings.bounds_only or self.static_findings(problem, kernel)
                or prechecks.skip_reason(self.settings, self.target.device, problem.definition, kernel, facts)):  # fmt: skip
            return None, None
        request = self._planned[nodeid] = self._request(problem, workload, kernel, facts, l2_flush)
        key = (problem.definition.name, workload.uuid)
        own = kernel.is_reference and self.settings.baseline == "reference"  # its own time is the baseline
        if not self.target.timed or self.target.stored_times is not None or own or key in self._planned_baselines:
            return request, None
        self._planned_baselines[key] = self._baseline_request(problem, workload, facts, l2_flush)
        return request, self._planned_baselines[key]

    def _decide(self, problem: Problem, workload: Workload, kernel: KernelSpec, facts: WorkloadFacts,
                base: ItemResult, fixtures: dict[str, Any]) -> Verdict:  # fmt: skip
        if self.settings.bounds_only:
            return self._bounds_only(problem, workload, facts, base)
        # The static rules first: a cheating kernel fails wherever it is collected, GPU or not.
        findings = self.static_findings(problem, kernel)
        if findings:
            return hack(base, *prechecks.finding_message(findings, self.settings.guard))
        reason = prechecks.skip_reason(self.settings, self.target.device, problem.definition, kernel, facts)
        if reason:
            return Verdict(replace(base, status=Status.SKIPPED, log=reason), "skipped", reason)
        runner, clocks = fixtures["solbench_runner"], fixtures["solbench_clocks"]
        if self.target.timed and self.settings.ceilings == "measured" and self.ceilings is None:
            why = self._measure_ceilings(runner)
            if why:
                return failed(base, Status.RUNTIME_ERROR, why)
        base = replace(base, hardware=self.hardware.key)
        clock_problem = clocks.problem() if hasattr(clocks, "problem") else None
        if clock_problem:
            return failed(base, Status.RUNTIME_ERROR, clock_problem, word="CLOCKS")
        return self._run(problem, workload, kernel, facts, base, fixtures)

    def _run(self, problem: Problem, workload: Workload, kernel: KernelSpec, facts: WorkloadFacts, base: ItemResult,
             fixtures: dict[str, Any]) -> Verdict:  # fmt: skip
        """The kernel's request in its worker, then the figures and the gates of a passing, timed kernel."""
        timed, runner, clocks = self.target.timed, fixtures["solbench_runner"], fixtures["solbench_clocks"]
        request = self._planned.pop(base.nodeid, None) or self._request(problem, workload, kernel, facts,
                                                                         fixtures["solbench_l2_flush"])  # fmt: skip
        before = clocks.snapshot() if timed else None
        judged = self.settings.isolate != "none"
        outcome = self._send(runner, request)
        where = calls.placement(runner, request, judged=judged)  # Ray: the seat, node and GPU it ran on
        base, hardware = self._placed(base, where)
        datasheet = self.target.hardware if hardware is self.hardware else hardware  # a placed GPU's own row
        if isinstance(outcome, Crash):
            record = replace(base, status=outcome.status, log=outcome.log)
            return failed(record, outcome.status, outcome.message, details=outcome.details)
        after = clocks.snapshot() if timed else None
        record = replace(base, status=outcome.status, log=outcome.log, correctness=outcome.correctness,
                         rule=outcome.rule, clocks=_clocks(before, after, clocks) if timed else None,
                         judge_phases_s=outcome.judge_phases_s)  # fmt: skip
        if where is not None and where.note:  # a retry on another actor: said first in the record's log
            record = replace(record, log=f"{where.note}\n{record.log}")
        if outcome.flops_by_dtype is not None:
            facts = self.facts.learn_flops(problem, workload, outcome.flops_by_dtype)
        if outcome.touched_bytes is not None:  # the input bytes the timed inputs reach, found by the judge
            facts = self.facts.learn_touched(problem, workload, outcome.touched_bytes)
        if outcome.status is Status.SKIPPED:
            return Verdict(record, "skipped", outcome.log)
        if outcome.status is not Status.PASSED:
            return failed(record, outcome.status, outcome.log)
        if outcome.kernel_timing is not None:
            t_k = figures.median_ms(outcome.kernel_timing)
            t_b, log, timed_here = self._baseline(problem, workload, kernel, facts, t_k, runner, fixtures,
                                                  where.device["name"] if where is not None else None)  # fmt: skip
            record = replace(record, log=record.log + log, reference_timing=timed_here)
            record = figures.scored(record, facts, hardware, datasheet,
                                    outcome.kernel_timing, t_k, t_b)  # fmt: skip
            if self.settings.profile:
                record = replace(record, profile=self._profile(request))
        return gate(record, self.settings, datasheet.name, self.regression)

    def _placed(self, base: ItemResult, where: Any) -> tuple[ItemResult, Any]:
        """The record and hardware row of a call a runner placed (Ray: ``calls.placement``); unplaced, as they are."""
        if where is None:
            return base, self.hardware
        record, hardware = figures.placed(base, where.device, where.node, self.hardware, self.target.device.name,
                                          named=bool(self.settings.hardware))  # fmt: skip
        if hardware is not self.hardware:
            self._rows[hardware.key] = hardware
        return record, hardware

    def static_findings(self, problem: Problem, kernel: KernelSpec) -> list[Any]:
        """The guard's static rules over a kernel's sources, once per kernel and definition."""
        key = (kernel.name, str(kernel.path), problem.definition.name)
        if key not in self._findings:
            self._findings[key] = prechecks.static_findings(self.settings.guard, problem.definition, kernel)
        return self._findings[key]

    def _profile(self, request: ItemRequest) -> dict[str, Any]:
        """Nsight Compute on one call of the kernel, in a process of its own; the verdict does not depend on it."""
        from pytest_solbench.worker import profile

        result = profile.profile_item(request, timeout_s=max(120.0, 3 * self.timeout_s),
                                      env={"CUDA_VISIBLE_DEVICES": self.target.visible_gpu})  # fmt: skip
        return profile.as_record(result)

    def _baseline(self, problem: Problem, workload: Workload, kernel: KernelSpec, facts: WorkloadFacts, t_k: float,
                  runner: Any, fixtures: dict[str, Any],
                  gpu: str | None = None) -> tuple[float | None, str, dict | None]:  # fmt: skip
        """T_b: the kernel's own time when it is the reference, a stored time, or the baseline timed once per
        workload (and GPU model, when the runner placed the kernel on one) in the reference's own process (which
        never imports kernel code); with a log line, and the baseline's measurement where this call timed it."""
        key = (problem.definition.name, workload.uuid)
        cached = (*key, gpu or "")
        mode = self.settings.baseline
        if kernel.is_reference and mode == "reference":
            self._baselines[cached] = t_k
        if self.target.stored_times is not None:
            stored = self.target.stored_time(*key)
            return stored, "" if stored is not None else f"no stored baseline time for this workload in {mode}\n", None
        if cached in self._baselines:
            return self._baselines[cached], "", None
        request = self._planned_baselines.get(key) or self._baseline_request(problem, workload, facts,
                                                                             fixtures["solbench_l2_flush"])  # fmt: skip
        outcome = self._send(runner, request, gpu=gpu)
        if isinstance(outcome, Crash) or outcome.kernel_timing is None:
            why = outcome.message if isinstance(outcome, Crash) else outcome.log
            self._baselines[cached] = None
            return None, f"timing the baseline failed: {why}\n", None
        self._baselines[cached] = figures.median_ms(outcome.kernel_timing)
        return self._baselines[cached], "", outcome.kernel_timing

    def _baseline_request(self, problem: Problem, workload: Workload, facts: WorkloadFacts,
                          l2_flush: Any) -> ItemRequest:  # fmt: skip
        return self._request(problem, workload, reference_kernel(problem.definition), facts, l2_flush, rounds=0,
                             compile_kernel=self.settings.baseline == "compile")

    def _bounds_only(self, problem: Problem, workload: Workload, facts: WorkloadFacts, base: ItemResult) -> Verdict:
        """--solbench-bounds-only: the bound alone; FLOPs the meta tensors cannot count are counted on CPU inputs."""
        if facts.work is None and facts.needs_real_inputs:
            if facts.largest_growing_elements > self.settings.cpu_max_elements:
                why = (f"{facts.work_error} (counting on real inputs was not tried: a tensor of "
                       f"{facts.largest_growing_elements:,} elements exceeds --solbench-cpu-max-elements)")  # fmt: skip
                return failed(base, Status.PASSED, why, word="SOL_ERROR")
            from pytest_solbench.sol.bound import work_for
            from pytest_solbench.worker.rounds import make_problem_inputs

            try:  # sol.work_for's own fallback: the reference on real CPU inputs
                work = work_for(problem.definition, facts.axis_values,
                                count_args=lambda: make_problem_inputs(problem, workload, facts.axis_values, 0, "cpu"))
            except Exception as exc:  # SolError names the field; anything else, its own words
                return failed(base, Status.PASSED, str(getattr(exc, "message", exc)), word="SOL_ERROR")
            facts = self.facts.learn_flops(problem, workload, work.flops_by_dtype)
        if facts.bytes_provisional and facts.largest_growing_elements <= self.settings.cpu_max_elements:
            facts = self._touched_on_cpu(problem, workload)
        if facts.bytes_provisional:
            base = replace(base, log=base.log + figures.PROVISIONAL)
        if facts.work is None:
            return failed(base, Status.PASSED, f"no SOL bound: {facts.work_error}", word="SOL_ERROR")
        return Verdict(base, "passed")

    def _touched_on_cpu(self, problem: Problem, workload: Workload) -> WorkloadFacts:
        """The bytes the timed inputs reach (their seed), found here on the CPU; provisional bytes stay when the
        reference fails on them."""
        from pytest_solbench.data.kernels import reference_namespace
        from pytest_solbench.sol.touched import input_bytes, touched_bytes
        from pytest_solbench.worker.rounds import TIMED_ROUND, make_problem_inputs, round_seed

        definition, facts = problem.definition, self.facts.of(problem, workload)
        try:
            seed = round_seed(self.settings.seed, workload.uuid, TIMED_ROUND)
            args = make_problem_inputs(problem, workload, facts.axis_values, seed, "cpu")
            run = definition.positional_reference(reference_namespace(definition)["run"])
            touched = input_bytes(definition, touched_bytes(run, args))
        except Exception:
            return facts
        return self.facts.learn_touched(problem, workload, touched)

    def _measure_ceilings(self, runner: Any) -> str | None:
        """Measure the copy bandwidth and GEMM peaks once, in the harness's own worker; bounds from then on use
        them (the physical floor keeps the datasheet: a good kernel can beat a measured ceiling). Why it failed,
        or None."""
        from pytest_solbench.sol.ceilings import apply_ceilings
        from pytest_solbench.worker.pool import WorkerError

        datasheet = self.target.hardware
        try:
            measured = runner.call("pytest_solbench.sol.ceilings:measure_ceilings", "cuda", self.timeout_s)
        except WorkerError as exc:
            return f"--solbench-ceilings measured: measuring failed: {exc.message}"
        measured["datasheet"] = {"dram_bandwidth_gb_s": datasheet.dram_bandwidth_gb_s,
                                 "peak_tflops": dict(datasheet.peak_tflops)}  # fmt: skip
        self.ceilings, self.hardware = measured, apply_ceilings(datasheet, measured)
        return None

    def _base_record(self, problem: Problem, workload: Workload, kernel: KernelSpec, nodeid: str, label: str,
                     facts: WorkloadFacts) -> ItemResult:  # fmt: skip
        """What is known before the item runs; its bound comes once, where the verdict is decided."""
        no_bound = facts.work is None and not facts.needs_real_inputs
        return ItemResult(
            nodeid=nodeid,
            problem=problem.definition.name,
            kernel=kernel.name,
            kernel_path=str(kernel.path),
            workload_uuid=workload.uuid,
            workload_label=label,
            status=Status.PASSED,
            device=self.target.device.kind,
            hardware=self.hardware.key,
            workload=workload.to_json(),
            seed=self.settings.seed,
            baseline=self.target.baseline_label,
            environment=self.environment(),
            timestamp=_dt.datetime.now(_dt.timezone.utc).isoformat(),
            log=f"no SOL bound: {facts.work_error}\n" if no_bound else "",
        )

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

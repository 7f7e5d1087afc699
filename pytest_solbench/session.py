"""The session, registered as a plugin only when ``--solbench`` is on: hooks that dispatch, and the results.

Like pytest-xdist's DSession, this object only wires pytest's hooks to the modules that do the work: ``target``
(what we measure against), ``pipeline`` (one item), ``report`` (tables and trace lines), ``scoring``.
"""

from __future__ import annotations

import difflib
from typing import Any

import pytest

from pytest_solbench.data import kernels as kernels_mod
from pytest_solbench.data.discovery import discover, one_per_name
from pytest_solbench.items import RECORD_KEY, report_collection_error
from pytest_solbench.options import Settings
from pytest_solbench.pipeline import Pipeline
from pytest_solbench.protocol import Status
from pytest_solbench.record import ItemResult
from pytest_solbench.reports.terminal import format_table
from pytest_solbench.reports.trace_lines import TraceWriter
from pytest_solbench.target import WORKERINPUT_KEY, Target
from pytest_solbench.data.trace import Problem, TraceError

class SolbenchSession:
    """Everything the items share; one per pytest process (under xdist, one per worker plus the controller)."""

    def __init__(self, config: pytest.Config, settings: Settings, target: Target) -> None:
        self.config, self.settings, self.target = config, settings, target
        self.pipeline = Pipeline(settings, target)
        self.gates = None
        if any(x is not None for x in (settings.save, settings.compare, settings.markdown_path, settings.html_path,
                                       settings.roofline_path, settings.histogram_path)):  # fmt: skip
            from pytest_solbench.gates import RunGates

            self.gates = RunGates(settings, target, self.pipeline.environment())
            self.pipeline.regression = self.gates.regression
        found, self.kernel_errors = one_per_name(*discover(list(settings.kernel_dirs)), list(settings.kernel_dirs))
        if settings.kernel_dirs and not found and not self.kernel_errors:
            raise pytest.UsageError(
                f"--kernel-dir {', '.join(map(str, settings.kernel_dirs))}: no kernel found there (a kernel is a "
                "Python file with DEFINITION = '<problem name>' and a run() function, or a FlashInfer Trace "
                "solution.json)"
            )
        self._kernels: dict[str, list[kernels_mod.KernelSpec]] = {}
        for spec in found:
            self._kernels.setdefault(spec.definition, []).append(spec)
        self.definitions_seen: set[str] = set()
        self.without_workloads: list[str] = []  # definitions collected with no workloads file
        self.results: list[ItemResult] = []
        self.worker_ceilings: dict[str, Any] | None = None
        self._writer: TraceWriter | None = None
        if settings.json_path is not None and not hasattr(config, "workerinput"):  # the controller writes the lines
            try:
                TraceWriter.check(settings.json_path)
            except OSError as exc:
                why = "a folder on that path is a file" if isinstance(exc, (FileExistsError, NotADirectoryError)) \
                    else exc.strerror or exc
                raise pytest.UsageError(f"--solbench-json {settings.json_path}: cannot be written: {why}") from None
        self._finished: list[str] = []  # the lines of the gates' end-of-run work, printed in the summary
        self.collection_errors: list[str] = []  # "file: why" of each file that could not be collected

    def kernels_for(self, definition: str) -> list[kernels_mod.KernelSpec]:
        return self._kernels.get(definition, [])

    def note_problem(self, problem: Problem) -> None:
        self.definitions_seen.add(problem.definition.name)
        if not problem.has_workloads:
            self.without_workloads.append(problem.definition.name)

    @property
    def ceilings(self) -> dict[str, Any] | None:
        return self.pipeline.ceilings or self.worker_ceilings

    # ------------------------------------------------------------ header and collection

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        hw, dev, settings = self.target.hardware, self.target.device, self.settings
        where = f"{dev.name} ({dev.sm}, driver {dev.driver})" if dev.kind == "cuda" else f"CPU ({dev.name or 'host'})"
        bf16 = hw.peak_tflops.get("bf16")
        lines = [
            f"solbench: device {where}; bounds for {hw.name} ({hw.dram_bandwidth_gb_s / 1000:.2f} TB/s, {bf16} TFLOP/s "
            "bf16 dense)",
            f"solbench: isolate {settings.isolate}; seed {settings.seed}; {settings.rounds} correctness rounds; "
            f"baseline: {self.target.baseline_name}",
        ]
        if dev.kind == "cuda":
            lines.append(f"solbench: timer {settings.timer}; clocks {settings.clocks}; L2 flushed before every sample")
        if settings.isolate == "none":
            lines.append("solbench: WARNING --solbench-isolate none: kernels run in this process, beside the checker; "
                         "verdicts are not protected from the code they judge (debugging only)")  # fmt: skip
        else:
            lines.append("solbench: verdicts by the judge process; each kernel runs in a process of its own and "
                         "answers in plain data (docs/threat-model.md)")  # fmt: skip
            if settings.guard == "off":
                lines.append("solbench: WARNING kernels run unconfined (--solbench-guard off)")
            else:
                from pytest_solbench.guard.confine import probe_in_subprocess, read_env

                reads = read_env(settings.kernel_dirs, settings.problem_paths, settings.blob_root)
                probed = probe_in_subprocess(reads=reads, cuda=dev.kind == "cuda")  # what each kernel's worker gets
                lines.append(probed.header_line())
        import os

        if dev.kind == "cuda" and os.environ.get("TRITON_INTERPRET", "0") not in ("", "0"):
            lines.append("solbench: WARNING TRITON_INTERPRET is set: Triton kernels run in its interpreter, and their "
                         "times mean nothing")  # fmt: skip
        if self.target.hardware_note:
            lines.append(f"solbench: WARNING {self.target.hardware_note}")
        if dev.kind == "cpu":
            lines.append(
                "solbench: CPU mode: correctness and SOL bounds only, no timing; workloads whose growing tensors "
                f"exceed {settings.cpu_max_elements:,} elements or whose work exceeds {settings.cpu_max_gflop:g} "
                "GFLOP are skipped"
            )
            if settings.gpu_only():
                lines.append(f"solbench: CPU mode ignores {', '.join(settings.gpu_only())}: they act on a GPU's timing")
        return lines

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.without_workloads:
            names = ", ".join(sorted(self.without_workloads)[:5]) + (", ..." if len(self.without_workloads) > 5 else "")
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"solbench: {len(self.without_workloads)} definitions have no workloads file and "
                                    f"give no items: {names}")  # fmt: skip

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list) -> None:
        """Kernels that cannot be used are collection errors, which -k and -m cannot deselect (an item could be)."""
        errors = list(self.kernel_errors)
        solved = set(self._kernels) & self.definitions_seen
        if config.args_source != pytest.Config.ArgsSource.ARGS:  # the user chose no problems: every kernel counts
            for definition, specs in sorted(self._kernels.items()):
                if definition not in self.definitions_seen:
                    close = difflib.get_close_matches(definition, sorted(self.definitions_seen), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    errors += [TraceError(spec.path, "definition" if spec.path.suffix == ".json" else "DEFINITION",
                                          f"no collected problem defines {definition!r}{hint}") for spec in specs]
        typos: list[TraceError] = []
        if config.args_source == pytest.Config.ArgsSource.ARGS:
            # Problems chosen by path: a kernel for another problem is out of scope; one for no problem is a typo.
            known: set[str] | None = None
            for definition, specs in sorted(self._kernels.items()):
                if definition in self.definitions_seen:
                    continue
                if known is None:
                    from pytest_solbench.items import definition_names

                    known = definition_names(self.settings.problem_paths) | self.definitions_seen
                if definition not in known:
                    close = difflib.get_close_matches(definition, sorted(known), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    typos += [TraceError(spec.path, "definition" if spec.path.suffix == ".json" else "DEFINITION",
                                         f"no problem defines {definition!r}{hint}") for spec in specs]
            errors += typos
        if config.args_source == pytest.Config.ArgsSource.ARGS and self._kernels and not solved and not typos:
            named = ", ".join(sorted(self._kernels))
            errors.append(TraceError(self.settings.kernel_dirs[0], "", f"no kernel here solves a collected problem: "
                                     f"the kernels name {named}; the problems collected are "
                                     f"{', '.join(sorted(self.definitions_seen)) or 'none'}"))  # fmt: skip
        for error in errors:
            report_collection_error(config, error)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:  # the summary files say so too: a run that exits 1 must not read "passed" there
            lines = str(report.longrepr).strip().splitlines()
            why = lines[-1] if lines else "no reason given"
            where = report.nodeid or "."
            self.collection_errors.append(why if where.split("/")[-1] in why else f"{where}: {why}")

    # ------------------------------------------------------------ reports

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        report = yield
        record = item.stash.get(RECORD_KEY, None)
        if report.when == "call" and record is not None:
            report.solbench_record = record  # an attribute of the report: xdist serializes it with the report
        return report

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = getattr(report, "solbench_record", None)
        if record is None or hasattr(self.config, "workerinput"):
            return  # under xdist the controller alone keeps and writes results
        result = ItemResult.from_dict(record)
        self.results.append(result)
        if self.settings.json_path is not None:
            if self._writer is None:
                self._writer = TraceWriter(self.settings.json_path)
            self._writer.write(result)
        self.config.hook.pytest_solbench_result(config=self.config, result=result)

    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        """INVALID_REFERENCE is the problem's fault: an error. In -v, a finished item shows its time and score."""
        record = getattr(report, "solbench_record", None)
        if report.when != "call" or record is None:
            return None
        if report.failed and record.get("status") == Status.INVALID_REFERENCE:
            return "error", "E", "ERROR"
        if report.passed and record.get("t_k_ms") is not None:
            from pytest_solbench.reports.terminal import _ms

            figures = f"  T_k {_ms(record['t_k_ms'])}"
            if record.get("pct_sol") is not None:
                figures += f"  {100 * record['pct_sol']:.1f}% SOL"
            if record.get("score") is not None:
                figures += f"  score {record['score']:.3f}"
            if record.get("profile"):
                figures += "  " + _profile_words(record["profile"])
            return "passed", ".", (f"PASSED{figures}", {"green": True})
        return None

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        finished = self._finished
        if not self.results or terminalreporter.verbosity < -1:
            return  # -q keeps the table (the scores are the point of the run); -qq drops it
        # In collection-like order whatever order they finished in, so an xdist run prints what one process does.
        shown = sorted((r for r in self.results if r.status is not Status.SKIPPED), key=_table_order)
        terminalreporter.section("solbench: speed of light")
        if self.settings.bounds_only:
            from pytest_solbench.reports.terminal import format_bounds

            lines = format_bounds(shown, self.target.hardware.name)
        else:
            lines = format_table(shown, width=max(80, terminalreporter._tw.fullwidth), columns=self.settings.columns,
                                 sort=self.settings.sort)  # fmt: skip
        for line in lines:
            terminalreporter.write_line(line)
        if self.ceilings:
            from pytest_solbench.reports.terminal import format_ceilings

            for line in format_ceilings(self.ceilings):
                terminalreporter.write_line(line)
        from pytest_solbench.reports.gpu_types import by_gpu, format_by_gpu

        if self.settings.ray is not None or len(by_gpu(shown)) > 1:
            for line in format_by_gpu(shown):
                terminalreporter.write_line(line)
        skipped = len(self.results) - len(shown)
        if skipped:
            terminalreporter.write_line(f"({skipped} items skipped; -rs lists why)")
        if self.settings.min_score is not None and not any(r.score is not None for r in shown):
            terminalreporter.write_line(f"--solbench-min-score {self.settings.min_score:g} was not applied: no item "
                                        "has a SOL Score (scores need GPU timings)")  # fmt: skip
        if self.settings.json_path is not None:
            terminalreporter.write_line(f"traces written to {self.settings.json_path}")
        for line in finished:
            terminalreporter.write_line(line)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Close the trace file; compare, save and write the reports (before the terminal summary prints them). A
        file asked for and not written (an unwritable store, a PNG without matplotlib) fails the session. The
        summaries' verdict counts what failed the run besides its items: files not collected, an interruption."""
        if self._writer is not None:
            self._writer.close()
        if self.gates is not None and self.results:
            unfinished = []
            if self.collection_errors:
                count = len(self.collection_errors)
                unfinished.append(f"{count} file{'s' if count > 1 else ''} could not be collected")
            if exitstatus == pytest.ExitCode.INTERRUPTED:
                unfinished.append(f"interrupted after {len(self.results)} of {session.testscollected} items")
            self._finished = self.gates.finish(self.results, self.config.rootpath, unfinished,
                                               [f"could not be collected: {e}" for e in self.collection_errors])
            if self.gates.failures and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None and self.pipeline.ceilings:
            workeroutput["solbench_ceilings"] = self.pipeline.ceilings


def _table_order(result: ItemResult) -> tuple:
    """Problem, kernel, then the workload label with its numbers compared as numbers (n:16 before n:1000)."""
    import re

    label = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", result.workload_label)]
    return result.problem, result.kernel, [(isinstance(p, int), p) for p in label]


def _profile_words(profile: dict[str, Any]) -> str:
    if "skipped" in profile:
        return f"(profile skipped: {profile['skipped'].splitlines()[0]})"
    dram, sm = profile.get("dram_throughput_pct"), profile.get("sm_throughput_pct")
    shown = " ".join(f"{name} {value:.0f}%" for name, value in (("DRAM", dram), ("SM", sm)) if value is not None)
    return f"[{shown} {profile.get('limiter')}-bound; {profile.get('command')}]"


class XdistHooks:
    """Registered on the controller when pytest-xdist is present: the target travels to every worker, and
    measured ceilings come back."""

    def __init__(self, session: SolbenchSession) -> None:
        self.session = session

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WORKERINPUT_KEY] = self.session.target.to_json()

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        ceilings = getattr(node, "workeroutput", {}).get("solbench_ceilings")
        if ceilings and self.session.worker_ceilings is None:
            self.session.worker_ceilings = ceilings

"""Problem files become pytest items (one per workload and kernel), with marks and compact failures."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pytest_solbench.data.dtypes import DTYPES, PRECISION_MARKS, precision_of
from pytest_solbench.data.kernels import KernelSpec, reference_kernel
from pytest_solbench.data.trace import Definition, Problem, TraceError, Workload, load_problem, problem_files

#: The session object (``session.SolbenchSession``), stored on the config only when ``--solbench`` is on.
SESSION_KEY = pytest.StashKey[Any]()
#: An item's record, stashed by ``runtest`` for the report hooks.
RECORD_KEY = pytest.StashKey[dict]()
#: The figures an item adds to its user_properties, one short value each.
JUNIT_FIGURES = ("status", "t_k_ms", "t_b_ms", "t_sol_ms", "pct_sol", "score")


class SolbenchFailure(Exception):
    """An item's verdict other than PASSED: the status word first, then a short message."""

    def __init__(self, status: str, message: str, details: str = "") -> None:
        self.status, self.message, self.details = status, message, details
        super().__init__(f"{status}: {message}")


def mark_name(text: str) -> str:
    return re.sub(r"\W+", "_", text).strip("_").lower() or "op"


def problem_marks(definition: Definition) -> list[str]:
    """Marks from the data: precision, op type, pass direction, then the least precise output's precision when it
    is lower than the inputs' (an FP8 quantization of bf16 inputs is selected by ``-m fp8`` and ``-m bf16``)."""
    marks = [precision_of(definition), mark_name(definition.op_type), "backward" if definition.is_backward else "forward"]
    floats = [DTYPES[s.dtype] for s in (*definition.inputs, *definition.outputs) if DTYPES[s.dtype].is_float]
    lowest = min(floats, key=lambda d: d.precision_rank).mark if floats else marks[0]
    return marks if lowest == marks[0] else [*marks, lowest]


def _definition_files(root: Path) -> list[Path]:
    return [root] if root.is_file() else [*root.rglob("definition.json"), *root.rglob("definitions/**/*.json")]


def definition_names(roots: list[Path] | tuple[Path, ...]) -> set[str]:
    """The name of every definition under the problem roots, read from the files alone (a broken one is left out:
    it is reported at collection)."""
    names = set()
    for root in roots:
        for path in _definition_files(root):
            try:
                name = json.loads(path.read_text()).get("name")
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(name, str):
                names.add(name)
    return names


def register_op_marks(config: pytest.Config, roots: list[Path]) -> None:
    """Register every op type found under the problem roots as a mark, so ``--markers`` lists them and ``-m`` and
    ``--strict-markers`` accept them before collection. Reads only the ``op_type`` field of each definition."""
    seen: set[str] = set()
    for root in roots:
        for path in _definition_files(root):
            try:
                data = json.loads(path.read_text())
                op_type = data.get("op_type") or str(data.get("name", "")).split("_")[0]
            except (OSError, ValueError, AttributeError):
                continue  # a broken file is reported at collection, with its field
            mark = mark_name(str(op_type))
            if mark and mark not in seen and mark not in PRECISION_MARKS:
                seen.add(mark)
                config.addinivalue_line("markers", f"{mark}: problems of op type {op_type} (from the data)")


def rerunnable_args(args: list[str], bases: list[Path]) -> list[str]:
    """Command-line ids as pytest printed them, made to resolve from where pytest now runs: an id's file part that
    is not found from here is looked up under each base (the rootdir, the problem roots), where pytest printed it
    relative to. Anything else is left as given (pytest names what it cannot find)."""
    out = []
    for arg in args:
        path, sep, rest = arg.partition("::")
        if path and not Path(path).exists() and not Path(path).is_absolute():
            found = next((base / path for base in bases if (base / path).exists()), None)
            arg = f"{found}{sep}{rest}" if found is not None else arg
        out.append(arg)
    return out


def problem_file_id(path: Path, rootpath: Path, roots: tuple[Path, ...]) -> str | None:
    """The id of a problem file outside the rootdir: its path under the problem root it lies in, as a run of the whole
    root prints it. pytest names such a file relative to the command-line argument it was found under, which leaves
    a file named alone (an id pasted back) with an empty id: it would print ``::name[...]``, which runs nowhere, and
    ``--lf`` would not know it. None: pytest's own id, relative to the rootdir, applies."""
    if path.is_relative_to(rootpath):
        return None
    for root in roots:
        base = root if root.is_dir() else root.parent
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return None


def workload_labels(workloads: tuple[Workload, ...]) -> dict[str, str]:
    """A readable, ``-k``-selectable id per workload: its var axes as ``name:value`` joined by ``-``
    (``batch_size:8-seq_len:128``); a repeated label gets the uuid's start."""
    labels: dict[str, str] = {}
    taken: set[str] = set()
    for workload in workloads:
        label = "-".join(f"{k}:{v}" for k, v in workload.axes.items()) or workload.uuid[:8]
        label = re.sub(r"[^\w:.+-]", "_", label)
        if label in taken:
            label = f"{label}-{workload.uuid[:8]}"
        taken.add(label)
        labels[workload.uuid] = label
    return labels


class ProblemFile(pytest.File):
    """A definition file: its workloads times the kernels that solve it."""

    def collect(self) -> Any:
        session = self.config.stash[SESSION_KEY]
        try:
            settings = session.settings
            problem = load_problem(self.path, settings.blob_root, settings.bind_by_name)
            from pytest_solbench.sol.bound import validate_formula

            validate_formula(problem.definition)
        except TraceError as exc:
            raise self.CollectError(str(exc)) from None
        session.note_problem(problem)
        definition = problem.definition
        if not problem.has_workloads:
            return  # a definition a dataset ships without workloads: counted in the header, not an error
        kernels = session.kernels_for(definition.name)
        if session.settings.bounds_only:
            kernels = [KernelSpec("bound", definition.name, definition.path, "python", "", "")]
        elif not kernels:
            if session.settings.kernel_dirs:
                return
            kernels = [reference_kernel(definition)]
        marks = problem_marks(definition)
        for name in marks[1:]:
            if name not in PRECISION_MARKS:
                self.config.addinivalue_line("markers", f"{name}: problems of this op type or pass (from the data)")
        labels = workload_labels(problem.workloads)
        workload_file = (problem_files(self.path) or (self.path, self.path.parent))[0]
        for kernel in kernels:
            for workload in problem.workloads:
                item = SolbenchItem.from_parent(
                    self, name=f"{definition.name}[{kernel.name}-{labels[workload.uuid]}]", callobj=_solbench_case
                )
                _structured_id(item)
                item.bind(problem, workload, kernel, labels[workload.uuid], workload_file)
                item.add_marker("solbench")
                for mark in marks:
                    item.add_marker(mark)
                yield item


def _structured_id(item: pytest.Item) -> None:
    """pytest >= 9.1 keys --lf/--ff/--nf on structured ids (path, names, [params]); an item whose name carries its
    own brackets gets the id its string parses to, so the cache's ids and the collected ones compare equal."""
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # older pytest: string ids, which already round-trip
        return
    item._id = NodeId.parse(item.nodeid)  # type: ignore[attr-defined]


def _solbench_case(solbench_runner: Any, solbench_clocks: Any, solbench_l2_flush: Any) -> None:
    """Stands for every solbench item: declares the fixtures it uses (users may override them in a conftest)."""


class SolbenchItem(pytest.Function):
    """One problem × workload × kernel."""

    problem: Problem
    workload: Workload
    kernel: KernelSpec
    label: str
    workload_file: Path

    def bind(self, problem: Problem, workload: Workload, kernel: KernelSpec, label: str, workload_file: Path) -> None:
        self.problem, self.workload, self.kernel, self.label = problem, workload, kernel, label
        self.workload_file = workload_file

    def runtest(self) -> None:
        from pytest_solbench.pipeline import plain

        pipeline = self.config.stash[SESSION_KEY].pipeline
        verdict = pipeline.evaluate(self.problem, self.workload, self.kernel, self.nodeid, self.label, self.funcargs)
        record = self.stash[RECORD_KEY] = plain(verdict.record)
        # One short property per figure (JUnit XML writes each as a <property>); the record rides on the report.
        self.user_properties.extend((key, record[key]) for key in JUNIT_FIGURES if record.get(key) is not None)
        if verdict.outcome == "skipped":
            # Reported at the workload's line of its problem file, with the item named: -rs says what and where.
            raise pytest.skip.Exception(f"{self.name}: {verdict.message}", _use_item_location=True)
        if verdict.outcome in ("failed", "error"):
            raise SolbenchFailure(verdict.word or verdict.record.status, verdict.message, verdict.details)

    def reportinfo(self) -> tuple[Path, int, str]:
        line = self.workload.line - 1 if self.workload.line else 0
        return self.workload_file, line, f"{self.problem.definition.name} {self.label} [{self.kernel.name}]"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, SolbenchFailure):
            failure = excinfo.value
            text = f"{failure.status}: {failure.message}"
            return text + (f"\n{failure.details}" if failure.details else "")
        return super().repr_failure(excinfo)


def _visible(text: str) -> str:
    """``text`` with every character that prints as nothing or moves the cursor (controls, zero-width and other
    format characters) as an escape: a refused file's name is printed in the error's id and message, and one holding
    escape sequences or a zero-width space could otherwise redraw the report or pass for another's (round 9, k01b)."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def report_collection_error(config: pytest.Config, error: TraceError) -> None:
    """A file that cannot be used (a broken kernel, a kernel for no collected problem) as a collection error of
    its own: ``-k`` and ``-m`` deselect items, never collection errors, so it cannot be hidden; with
    ``--continue-on-collection-errors`` (on under ``--solbench``) the other items still run, and the exit is 1."""
    from _pytest.pathlib import bestrelpath

    nodeid = bestrelpath(config.rootpath, error.path) if error.path.is_absolute() else str(error.path)
    report = pytest.CollectReport(_visible(nodeid), "failed", "\n".join(map(_visible, str(error).split("\n"))), [])
    config.hook.pytest_collectreport(report=report)

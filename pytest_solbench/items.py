"""Problem files become pytest items (one per workload and kernel), with marks and compact failures."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .dtypes import DTYPES, PRECISION_MARKS
from .kernels import KernelSpec, reference_kernel
from .trace import Definition, Problem, TraceError, Workload, load_problem, problem_files

if TYPE_CHECKING:
    from .session import SolbenchSession


class SolbenchFailure(Exception):
    """An item's verdict other than PASSED: the status word first, then a short message."""

    def __init__(self, status: str, message: str, details: str = "") -> None:
        self.status, self.message, self.details = status, message, details
        super().__init__(f"{status}: {message}")


def is_problem_file(path: Path) -> bool:
    if path.suffix != ".json":
        return False
    located = problem_files(path)
    return located is not None and (path.name == "definition.json" or "definitions" in path.parts)


def precision_mark(definition: Definition) -> str:
    """The problem's precision: the least precise float dtype among its inputs (then outputs)."""
    for specs in (definition.inputs, definition.outputs):
        floats = [DTYPES[s.dtype] for s in specs if DTYPES[s.dtype].is_float]
        if floats:
            return min(floats, key=lambda d: d.precision_rank).mark
    return "fp32"


def _mark_name(text: str) -> str:
    return re.sub(r"\W+", "_", text).strip("_").lower() or "op"


def problem_marks(definition: Definition) -> list[str]:
    """Marks from the data: precision, op type, pass direction."""
    return [precision_mark(definition), _mark_name(definition.op_type), "backward" if definition.is_backward else "forward"]


class ProblemFile(pytest.File):
    """A definition file: its workloads times the kernels that solve it."""

    def _session(self) -> SolbenchSession:
        from .session import SESSION_KEY

        return self.config.stash[SESSION_KEY]

    def collect(self) -> Any:
        state = self._session()
        try:
            problem = load_problem(self.path)
            from .sol import validate_formula

            validate_formula(problem.definition)
        except TraceError as exc:
            raise self.CollectError(str(exc)) from None
        state.note_problem(problem)
        definition = problem.definition
        kernels = state.kernels_for(definition.name)
        if not kernels:
            if state.settings.kernel_dirs and not state.settings.bounds_only:
                return
            kernels = [reference_kernel(definition)]
        if state.settings.bounds_only:
            kernels = [KernelSpec("bound", definition.name, definition.path, "python", "", "")]
        marks = problem_marks(definition)
        for name in marks[1:]:
            if name not in PRECISION_MARKS:
                self.config.addinivalue_line("markers", f"{name}: problems of this op type or pass (from the data)")
        labels = _unique_labels(problem.workloads)
        for kernel in kernels:
            for workload in problem.workloads:
                item = SolbenchItem.from_parent(
                    self, name=f"{definition.name}[{kernel.name}-{labels[workload.uuid]}]", callobj=_solbench_case
                )
                item.bind(problem, workload, kernel)
                item.add_marker("solbench")
                for mark in marks:
                    item.add_marker(mark)
                yield item


def _unique_labels(workloads: tuple[Workload, ...]) -> dict[str, str]:
    labels: dict[str, str] = {}
    taken: set[str] = set()
    for workload in workloads:
        label = workload.label()
        if label in taken:
            label = f"{label}-{workload.uuid[:8]}"
        taken.add(label)
        labels[workload.uuid] = label
    return labels


def _solbench_case(solbench_runner: Any, solbench_clocks: Any, solbench_l2_flush: Any) -> None:
    """Stands for every solbench item: declares the fixtures it uses (users may override them in a conftest)."""


class SolbenchItem(pytest.Function):
    """One problem × workload × kernel."""

    problem: Problem
    workload: Workload
    kernel: KernelSpec

    def bind(self, problem: Problem, workload: Workload, kernel: KernelSpec) -> None:
        self.problem, self.workload, self.kernel = problem, workload, kernel

    def runtest(self) -> None:
        from .session import SESSION_KEY

        self.config.stash[SESSION_KEY].run_item(self, self.funcargs)

    def reportinfo(self) -> tuple[Path, int, str]:
        line = self.workload.line - 1 if self.workload.line else 0
        return self.path, line, f"{self.problem.definition.name} {self.workload.label()} [{self.kernel.name}]"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, SolbenchFailure):
            failure = excinfo.value
            text = f"{failure.status}: {failure.message}"
            return text + (f"\n{failure.details}" if failure.details else "")
        return super().repr_failure(excinfo)


class KernelErrorItem(pytest.Item):
    """A kernel file that cannot be used: it fails with the reason, the other kernels unaffected."""

    def __init__(self, *, error: TraceError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise SolbenchFailure("COMPILE_ERROR", str(self.error))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.error.path, 0, f"kernel {self.error.path.name}"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, SolbenchFailure):
            return f"{excinfo.value.status}: {excinfo.value.message}"
        return super().repr_failure(excinfo, style=style)  # type: ignore[arg-type]

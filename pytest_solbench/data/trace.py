"""Reading FlashInfer Trace files: definitions and workloads validated field by field, problems found on disk.

Both SOL-ExecBench and FlashInfer-Bench write this format; files from either load unchanged. Every error names
the file and the field (``TraceError``), so a bad problem file becomes a clean collection error.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path
from typing import Any

from pytest_solbench.data.dtypes import DTYPES
# The expression evaluator and the schema's types live in their own modules; their names stay importable from here.
from pytest_solbench.data.expressions import (  # noqa: F401
    ExpressionError,
    compile_expression,
    eval_expression,
    evaluate_constraint,
    expression_names,
)
from pytest_solbench.data.schema import (  # noqa: F401
    Axis,
    Definition,
    InputSpec,
    Problem,
    TensorSpec,
    Tolerance,
    TraceError,
    Workload,
)

# ---------------------------------------------------------------- definitions

_DEF_KNOWN = {
    "name", "op_type", "axes", "inputs", "outputs", "reference", "tags", "constraints", "description",
    "custom_inputs_entrypoint", "sol", "solbench",
}  # fmt: skip
_SOLBENCH_KEYS = {"bind_reference_by_name"}  # our extension field "solbench": per-definition switches


def _checked_expression(text: Any, known: set[str], path: Path, where: str) -> set[str]:
    """The names of an expression that are not in ``known``; a TraceError if it does not parse or leaves the subset."""
    if not isinstance(text, str):
        raise TraceError(path, where, f"must be an expression string, got {text!r}")
    try:
        compile_expression(text)
        return expression_names(text) - known
    except SyntaxError as exc:
        raise TraceError(path, where, f"not a valid expression: {exc.msg}") from None
    except ExpressionError as exc:
        raise TraceError(path, where, str(exc)) from None


def _need(data: dict[str, Any], key: str, kind: type | tuple[type, ...], path: Path, where: str = "") -> Any:
    if key not in data:
        raise TraceError(path, f"{where}{key}", "required field is missing")
    value = data[key]
    if not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise TraceError(path, f"{where}{key}", f"must be {names}, got {type(value).__name__}")
    return value


def _parse_axes(raw: Any, path: Path) -> dict[str, Axis]:
    if not isinstance(raw, dict):
        raise TraceError(path, "axes", "must be an object of axis name to {type, value}")
    axes: dict[str, Axis] = {}
    for name, spec in raw.items():
        where = f"axes.{name}"
        if not isinstance(spec, dict) or spec.get("type") not in ("const", "var", "expr"):
            raise TraceError(path, f"{where}.type", "must be 'const', 'var' or 'expr'")
        kind = spec["type"]
        if kind == "const":
            value = spec.get("value")
            if not isinstance(value, int) or isinstance(value, bool):
                raise TraceError(path, f"{where}.value", "a const axis needs an integer value")
            axes[name] = Axis(name, kind, value=value)
        elif kind == "expr":
            text = spec.get("expression")
            if not isinstance(text, str):
                raise TraceError(path, f"{where}.expression", "an expr axis needs an expression string")
            unknown = _checked_expression(text, set(raw), path, f"{where}.expression")
            if unknown:
                raise TraceError(path, f"{where}.expression", f"names unknown axis {sorted(unknown)[0]!r}")
            axes[name] = Axis(name, kind, expression=text)
        else:
            axes[name] = Axis(name, kind)
    return axes


def _parse_tensors(raw: Any, section: str, axes: dict[str, Axis], path: Path) -> tuple[TensorSpec, ...]:
    if not isinstance(raw, dict):
        raise TraceError(path, section, "must be an ordered object of name to {shape, dtype}")
    specs = []
    for name, spec in raw.items():
        where = f"{section}.{name}"
        if not isinstance(spec, dict):
            raise TraceError(path, where, "must be an object with shape and dtype")
        dtype = spec.get("dtype")
        if dtype not in DTYPES:
            raise TraceError(path, f"{where}.dtype", f"unknown dtype {dtype!r} (known: {', '.join(DTYPES)})")
        shape = spec.get("shape", None)
        if shape is not None:
            if not isinstance(shape, list):
                raise TraceError(path, f"{where}.shape", "must be a list of axis names, [] or null")
            for dim in shape:
                if isinstance(dim, int) and not isinstance(dim, bool):
                    continue
                if not isinstance(dim, str) or (not dim.isdigit() and dim not in axes):
                    raise TraceError(path, f"{where}.shape", f"names unknown axis {dim!r}")
            shape = tuple(str(d) for d in shape)
        specs.append(TensorSpec(name, shape, dtype))
    return tuple(specs)


def _run_parameters(source: str, path: Path) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise TraceError(path, "reference", f"does not parse: {exc.msg} (line {exc.lineno})") from None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "run":
            return [a.arg for a in node.args.posonlyargs + node.args.args]
    raise TraceError(path, "reference", "defines no top-level function 'run'")


def parse_definition(data: Any, path: Path, bind_by_name: bool = False) -> Definition:
    """Validate a definition object read from ``path``.

    The reference's run() must take the inputs in the definition's order (it is called positionally, as both
    peers call it). ``bind_by_name`` (an option), or the definition's own ``"solbench": {"bind_reference_by_name":
    true}``, accepts any order of the same names instead: the reference is then called with keyword arguments.
    """
    if not isinstance(data, dict):
        raise TraceError(path, "", "a definition must be a JSON object")
    name = _need(data, "name", str, path)
    axes = _parse_axes(_need(data, "axes", dict, path), path)
    inputs = _parse_tensors(_need(data, "inputs", dict, path), "inputs", axes, path)
    outputs = _parse_tensors(_need(data, "outputs", dict, path), "outputs", axes, path)
    clash = {s.name for s in inputs} & {s.name for s in outputs}
    if clash:
        raise TraceError(path, f"outputs.{sorted(clash)[0]}", "an output may not share a name with an input")
    reference = data.get("reference")
    if reference is None and (path.parent / "reference.py").is_file():
        reference = (path.parent / "reference.py").read_text()
    if not isinstance(reference, str) or not reference.strip():
        raise TraceError(path, "reference", "required: Python source defining run(), or a reference.py beside the file")
    ours = data.get("solbench") or {}
    if not isinstance(ours, dict) or set(ours) - _SOLBENCH_KEYS:
        raise TraceError(path, "solbench", f"must be an object with the keys {sorted(_SOLBENCH_KEYS)}")
    by_name = bool(bind_by_name or ours.get("bind_reference_by_name"))
    params = _run_parameters(reference, path)
    if data.get("custom_inputs_entrypoint") is None:
        _check_reference_params(params, [s.name for s in inputs], by_name, path)
    known = set(axes) | {s.name for s in inputs}
    constraints = tuple(_need(data, "constraints", list, path) if data.get("constraints") else ())
    for i, text in enumerate(constraints):
        unknown = _checked_expression(text, known, path, f"constraints[{i}]")
        if unknown:
            raise TraceError(path, f"constraints[{i}]", f"{text!r} names {sorted(unknown)[0]!r}, "
                             "which is neither an axis nor an input")  # fmt: skip
    sol = data.get("sol")
    if sol is not None and not isinstance(sol, dict):
        raise TraceError(path, "sol", "must be an object with 'flops' and/or 'bytes' expressions")
    op_type = data.get("op_type") or name.split("_")[0]
    return Definition(
        name=name,
        op_type=str(op_type),
        axes=axes,
        inputs=inputs,
        outputs=outputs,
        reference=reference,
        path=path,
        tags=tuple(str(t) for t in data.get("tags") or ()),
        constraints=constraints,
        description=str(data.get("description") or ""),
        custom_inputs_entrypoint=data.get("custom_inputs_entrypoint"),
        sol=sol,
        extra={k: v for k, v in data.items() if k not in _DEF_KNOWN},
        reference_params=tuple(params),
        bind_by_name=by_name,
    )


def _check_reference_params(params: list[str], names: list[str], by_name: bool, path: Path) -> None:
    """run() takes the inputs in order (a prefix, the rest defaulted); by name, the same names in any order."""
    if by_name:
        missing, stray = [n for n in names if n not in params], [p for p in params if p not in names]
        if missing or stray:
            what = f"lacks the input {missing[0]!r}" if missing else f"takes {stray[0]!r}, which is not an input"
            raise TraceError(path, "reference", f"run({', '.join(params)}) {what}: bound by name, its parameters "
                             "must be the inputs' names")  # fmt: skip
    elif params != names[: len(params)]:
        hint = ""
        if sorted(params) == sorted(names):
            hint = (' (the same names in another order: set "solbench": {"bind_reference_by_name": true} in the '
                    "definition, or pass --solbench-bind-by-name, to call it with keyword arguments)")
        raise TraceError(path, "reference", f"run({', '.join(params)}) must take the inputs in order: "
                         f"run({', '.join(names)}){hint}")  # fmt: skip


def read_json(path: Path) -> Any:
    """Read a JSON file; bad JSON is a TraceError naming the line."""
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise TraceError(path, f"line {exc.lineno}", f"not valid JSON: {exc.msg}") from None
    except OSError as exc:
        raise TraceError(path, "", f"cannot be read: {exc.strerror}") from None


def load_definition(path: Path, bind_by_name: bool = False) -> Definition:
    return parse_definition(read_json(path), path, bind_by_name)


# ---------------------------------------------------------------- workloads


_TOLERANCE_KEYS = {f.name for f in dataclasses.fields(Tolerance)}


def parse_workload(raw: Any, definition: Definition, path: Path, line: int) -> Workload:
    """Validate one workload line against its definition."""
    where = f"line {line}"
    if isinstance(raw, dict) and isinstance(raw.get("workload"), dict):
        raw = raw["workload"]  # a workload trace line
    if not isinstance(raw, dict):
        raise TraceError(path, where, "a workload must be a JSON object")
    axes = raw.get("axes") or {}
    if not isinstance(axes, dict):
        raise TraceError(path, f"{where}: axes", "must be an object of var axis to integer")
    known = ", ".join(definition.var_axes) or "none"
    for name, value in axes.items():  # an unknown name first: a misspelt axis is not "missing" the right one
        if name not in definition.axes or definition.axes[name].kind != "var":
            raise TraceError(path, f"{where}: axes.{name}", f"unknown axis: {definition.name} has no var axis "
                             f"{name!r} (its var axes: {known})")  # fmt: skip
    for name in definition.var_axes:
        if name not in axes:
            raise TraceError(path, f"{where}: axes.{name}", f"missing: {definition.name} needs a value for it")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise TraceError(path, f"{where}: axes.{name}", f"must be a non-negative integer, got {value!r}")
    raw_inputs = raw.get("inputs") or {}
    if not isinstance(raw_inputs, dict):
        raise TraceError(path, f"{where}: inputs", "must be an object of input name to {type: ...}")
    inputs: dict[str, InputSpec] = {}
    known = {s.name for s in definition.inputs}
    for name, spec in raw_inputs.items():
        if name not in known and not definition.custom_inputs_entrypoint:
            raise TraceError(path, f"{where}: inputs.{name}", f"{definition.name} has no input {name!r}")
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind == "random" or kind == "custom":
            inputs[name] = InputSpec(kind)
        elif kind == "scalar":
            if "value" not in spec:
                raise TraceError(path, f"{where}: inputs.{name}.value", "a scalar input needs a value")
            inputs[name] = InputSpec(kind, value=spec["value"])
        elif kind == "safetensors":
            if not isinstance(spec.get("path"), str):
                raise TraceError(path, f"{where}: inputs.{name}.path", "a safetensors input needs a file path")
            inputs[name] = InputSpec(kind, path=spec["path"], tensor_key=spec.get("tensor_key") or name)
        else:
            raise TraceError(path, f"{where}: inputs.{name}.type", "must be random, scalar, safetensors or custom")
    tolerance = raw.get("tolerance")
    if tolerance is not None:
        if not isinstance(tolerance, dict) or set(tolerance) - _TOLERANCE_KEYS:
            bad = sorted(set(tolerance) - _TOLERANCE_KEYS) if isinstance(tolerance, dict) else ["(not an object)"]
            raise TraceError(path, f"{where}: tolerance", f"unknown key {bad[0]!r} (known: {sorted(_TOLERANCE_KEYS)})")
    uuid = str(raw.get("uuid") or f"{definition.name}-{line}")
    return Workload(uuid=uuid, axes=dict(axes), inputs=inputs, tolerance=tolerance, line=line,
                    axis_values=definition.axis_values(axes))


def _check_axis_constraints(definition: Definition, workload: Workload, path: Path, line: int) -> None:
    """Constraints that read axes only are checked now; those that read input values, in the worker."""
    values = workload.axis_values
    for text in definition.constraints:
        if not expression_names(text) <= set(values):
            continue
        try:
            holds = evaluate_constraint(text, values)
        except ExpressionError as exc:
            raise TraceError(path, f"line {line}", str(exc)) from None
        if not holds:
            shown = ", ".join(f"{k}={v}" for k, v in workload.axes.items())
            raise TraceError(path, f"line {line}", f"{shown} breaks constraint {text!r} of {definition.name}")


def load_workloads(path: Path, definition: Definition) -> list[Workload]:
    """Read a workload JSONL file (bare workloads or workload-trace lines)."""
    workloads = []
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise TraceError(path, "", f"cannot be read: {exc.strerror}") from None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TraceError(path, f"line {number}", f"not valid JSON: {exc.msg}") from None
        workload = parse_workload(raw, definition, path, number)
        _check_axis_constraints(definition, workload, path, number)
        workloads.append(workload)
    return workloads


# ---------------------------------------------------------------- problems on disk


def problem_files(path: Path) -> tuple[Path, Path] | None:
    """For a definition file in either layout, its workload file and dataset root; None if not a definition.

    SOL-ExecBench: ``<dir>/definition.json`` + ``<dir>/workload.jsonl`` (root: ``<dir>``).
    FlashInfer-Trace: ``<root>/definitions/<op_type>/<name>.json`` + ``<root>/workloads/<op_type>/<name>.jsonl``.
    """
    if path.suffix != ".json":
        return None
    if path.name == "definition.json":
        return path.parent / "workload.jsonl", path.parent
    for parent in path.parents:
        if parent.name == "definitions":
            root = parent.parent
            return root / "workloads" / path.relative_to(parent).with_suffix(".jsonl"), root
    return None


_DEFINITION_FIELDS = ("name", "axes", "inputs", "outputs")


def is_problem_file(path: Path) -> bool:
    """Whether a file is a definition, by layout and by content, so that the other files of a dataset root
    (solutions, traces, a peer's tests/*.py, an index.json) are not collected.

    By layout: a ``definition.json``, or a JSON file under a ``definitions/`` folder. By content: a JSON object
    holding a name and one of axes, inputs, outputs. A file placed as a definition whose JSON does not parse counts as one,
    so that its error is shown rather than the problem silently dropped."""
    if problem_files(path) is None or not path.is_file():
        return False
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return True
    except OSError:
        return False
    if not isinstance(data, dict):
        return False
    # A definition.json, or a named object with any definition field, is one: a missing field is then its error,
    # not a silently dropped problem. Solutions, traces and indexes carry none of these fields.
    return path.name == "definition.json" or ("name" in data and any(key in data for key in _DEFINITION_FIELDS[1:]))


def load_problem(path: Path, blob_root: Path | None = None, bind_by_name: bool = False) -> Problem:
    """Load a definition and its workloads from either layout.

    A definition without a workloads file has no workloads (FlashInfer-Trace ships many); a workloads file that
    exists must be well formed and hold at least one."""
    located = problem_files(path)
    if located is None:
        raise TraceError(path, "", "is neither a definition.json nor under a definitions/ folder")
    workload_path, root = located
    definition = load_definition(path, bind_by_name)
    workloads: list[Workload] = []
    if workload_path.is_file():
        workloads = load_workloads(workload_path, definition)
        if not workloads:
            raise TraceError(workload_path, "", "holds no workloads")
    return Problem(definition, tuple(workloads), root, Path(blob_root) if blob_root is not None else None)

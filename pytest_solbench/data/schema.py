"""The FlashInfer Trace schema's types: a definition, a workload, a problem (a definition with its workloads).

Frozen values with the few derived facts every reader needs (axis values, shapes, the reference's binding);
reading and validating files into them is ``data.trace``. ``TraceError`` names the file and the field.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pytest_solbench.data.expressions import eval_expression


class TraceError(Exception):
    """A problem, workload or solution file that does not follow the schema."""

    def __init__(self, path: Path | str, where: str, message: str) -> None:
        self.path, self.where, self.message = Path(path), where, message
        super().__init__(f"{path}: {where}: {message}" if where else f"{path}: {message}")


# ---------------------------------------------------------------- definition


@dataclass(frozen=True)
class Axis:
    """An axis: ``const`` (fixed value), ``var`` (set by each workload) or ``expr`` (computed from others)."""

    name: str
    kind: str  # "const" | "var" | "expr"
    value: int | None = None
    expression: str | None = None


@dataclass(frozen=True)
class TensorSpec:
    """An input or output: shape as axis names or integer strings (``None``: a Python scalar)."""

    name: str
    shape: tuple[str, ...] | None
    dtype: str

    @property
    def is_scalar(self) -> bool:
        return self.shape is None


@dataclass(frozen=True)
class Definition:
    """An operator contract: axes, ordered inputs and outputs, and the reference source defining ``run``."""

    name: str
    op_type: str
    axes: dict[str, Axis]
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    reference: str
    path: Path
    tags: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    description: str = ""
    custom_inputs_entrypoint: str | None = None
    sol: dict[str, Any] | None = None  # our extension: explicit FLOPs and bytes formulas (docs/sol.md)
    extra: dict[str, Any] = field(default_factory=dict)  # unknown fields, kept
    reference_params: tuple[str, ...] = ()  # the reference run()'s parameter names, in order
    bind_by_name: bool = False  # call the reference with keyword arguments (its parameters are the inputs, any order)

    @property
    def var_axes(self) -> list[str]:
        return [a.name for a in self.axes.values() if a.kind == "var"]

    def tag(self, key: str) -> str | None:
        """The value of a ``key:value`` tag, if present."""
        for t in self.tags:
            if t.startswith(key + ":"):
                return t.split(":", 1)[1]
        return None

    @property
    def is_backward(self) -> bool:
        stage = (self.tag("stage") or "").lower()
        return stage == "backward" or "backward" in self.name.lower() or self.op_type.endswith("_backward")

    def axis_values(self, var_values: dict[str, int]) -> dict[str, int]:
        """Every axis's value for a workload's var bindings (expr axes evaluated in order of need)."""
        values: dict[str, int] = {a.name: a.value for a in self.axes.values() if a.kind == "const"}  # type: ignore[misc]
        values.update(var_values)
        pending = [a for a in self.axes.values() if a.kind == "expr"]
        while pending:
            progressed = False
            for axis in list(pending):
                try:
                    values[axis.name] = int(eval_expression(axis.expression or "", values))
                except KeyError:
                    continue
                pending.remove(axis)
                progressed = True
            if not progressed:
                raise TraceError(self.path, f"axes.{pending[0].name}.expression", "refers to an axis with no value")
        return values

    def positional_reference(self, run: Callable[..., Any]) -> Callable[..., Any]:
        """The reference callable with the inputs in the definition's order, as every caller passes them: ``run``
        itself, or, bound by name, a wrapper that passes them as keyword arguments."""
        if not self.bind_by_name:
            return run
        names = [s.name for s in self.inputs]

        @functools.wraps(run)
        def by_name(*args: Any) -> Any:
            return run(**dict(zip(names, args)))

        return by_name

    def shape_of(self, spec: TensorSpec, axis_values: dict[str, int]) -> tuple[int, ...]:
        """The concrete shape of an input or output, in logical elements."""
        assert spec.shape is not None
        return tuple(int(d) if d.lstrip("-").isdigit() else axis_values[d] for d in spec.shape)


# ---------------------------------------------------------------- workloads


@dataclass(frozen=True)
class Tolerance:
    """How close a kernel's output must be to the reference's."""

    max_atol: float
    max_rtol: float
    required_matched_ratio: float = 0.99
    max_error_cap: float | None = None
    allow_negative_inf: bool = False
    max_relative_l2_error: float | None = None  # ||got - ref||_2 / ||ref||_2 over the output (worker/check.py)


@dataclass(frozen=True)
class InputSpec:
    """How one input of a workload is made."""

    kind: str  # "random" | "scalar" | "safetensors" | "custom"
    value: Any = None  # scalar value
    path: str | None = None  # safetensors file, relative to the dataset root
    tensor_key: str | None = None


@dataclass(frozen=True)
class Workload:
    """One binding of the var axes, with how each input is made."""

    uuid: str
    axes: dict[str, int]
    inputs: dict[str, InputSpec]
    tolerance: dict[str, Any] | None = None  # the workload's own overrides, merged over the defaults
    line: int = 0
    axis_values: dict[str, int] = field(default_factory=dict)  # every axis (const, var, expr), worked out at load

    def label(self) -> str:
        """A short readable id: the var axes, ``batch_size=8-seq_len=128``."""
        return "-".join(f"{k}={v}" for k, v in self.axes.items()) or self.uuid[:8]

    def to_json(self) -> dict[str, Any]:
        """The workload as the schema writes it (for trace lines)."""
        inputs: dict[str, Any] = {}
        for name, spec in self.inputs.items():
            entry: dict[str, Any] = {"type": spec.kind}
            if spec.kind == "scalar":
                entry["value"] = spec.value
            elif spec.kind == "safetensors":
                entry.update(path=spec.path, tensor_key=spec.tensor_key)
            inputs[name] = entry
        data: dict[str, Any] = {"uuid": self.uuid, "axes": self.axes, "inputs": inputs}
        if self.tolerance:
            data["tolerance"] = self.tolerance
        return data


# ---------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """A definition with its workloads (none when its workloads file is absent), the dataset root, and the
    folder that relative safetensors paths start from (``blob_root``: the dataset root unless given)."""

    definition: Definition
    workloads: tuple[Workload, ...]
    root: Path
    blob_root: Path = None  # type: ignore[assignment]  # filled from root

    def __post_init__(self) -> None:
        if self.blob_root is None:
            object.__setattr__(self, "blob_root", self.root)

    @property
    def has_workloads(self) -> bool:
        return bool(self.workloads)

    def blob_path(self, relative: str) -> Path:
        """Where a workload's safetensors file is: absolute as given, else under the blob root (as FlashInfer-Bench
        resolves it against its dataset root, FIB_DATASET_PATH)."""
        return self.blob_root / relative

"""Recorded calls as FlashInfer Trace problems: one definition per op kind and shape family (the calls that differ
only in their var axes), one workload per distinct size, written in the SOL-ExecBench layout
(``<root>/<name>/definition.json`` + ``reference.py`` + ``workload.jsonl``) that ``--solbench-problems`` runs.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from pytest_solbench.captures.ops import Call
from pytest_solbench.captures.recorder import Counted, Recording
from pytest_solbench.data.dtypes import DTYPES


@dataclass(frozen=True)
class Workload:
    """One distinct size of a family: its var axes, how often it ran and for how long."""

    axes: dict[str, int]
    counted: Counted
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Family:
    """The calls one definition covers."""

    name: str
    call: Call  # var axes unbound (``Call.family``)
    workloads: tuple[Workload, ...]

    @property
    def calls(self) -> int:
        return sum(w.counted.calls for w in self.workloads)

    @property
    def time_ms(self) -> float:
        return sum(w.counted.time_ms for w in self.workloads)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "model"


def _precision(call: Call) -> str:
    floats = [DTYPES[t.dtype] for t in (*call.inputs, *call.outputs) if DTYPES[t.dtype].is_float]
    return min(floats, key=lambda d: d.precision_rank).mark if floats else "int"


def families(recording: Recording, model: str) -> list[Family]:
    """Group the recorded calls into families, named ``<model>_<kind>_<constants>_<precision>``, in the order of
    their first call; two calls with the same family and sizes (they differed only in layout) are one workload."""
    grouped: dict[Call, dict[tuple, list]] = {}
    for call, counted in recording.calls.items():
        sizes = grouped.setdefault(call.family(), {})
        key = tuple(call.var_sizes().items())
        tally = sizes.setdefault(key, [0, 0.0, []])
        tally[0] += counted.calls
        tally[1] += counted.time_ms
        if call.note and call.note not in tally[2]:
            tally[2].append(call.note)
    result, taken = [], set()
    for call, sizes in grouped.items():
        base = "_".join(p for p in (_slug(model), call.kind, call.label, _precision(call)) if p)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        workloads = tuple(Workload(dict(k), Counted(c, t), tuple(notes)) for k, (c, t, notes) in sizes.items())
        result.append(Family(name, call, workloads))
    return result


def _axes(call: Call) -> dict[str, dict]:
    """Axes in order of first use: the var axes, then each constant with its value."""
    const = dict(call.sizes)
    axes: dict[str, dict] = {}
    for tensor in (*call.inputs, *call.outputs):
        for axis in tensor.axes:
            if axis.isdigit() or axis in axes:
                continue
            axes[axis] = {"type": "var"} if axis in call.var_axes else {"type": "const", "value": const[axis]}
    return axes


def definition_json(family: Family, model: str, share: float) -> dict:
    call = family.call
    shapes = ", ".join(" ".join(f"{k}={v}" for k, v in w.axes.items()) for w in family.workloads)
    notes = sorted({n for w in family.workloads for n in w.notes})
    description = (f"{call.kind} captured from {model} ({call.aten}): {family.calls} calls at {len(family.workloads)} "
                   f"size(s) ({shapes}), {share:.1%} of the op time the capture measured."
                   + "".join(f" Note: {n}." for n in notes))  # fmt: skip
    return {
        "name": family.name,
        "op_type": call.kind,
        "description": description,
        "tags": [f"model:{_slug(model)}", "source:capture"],
        "axes": _axes(call),
        "inputs": {t.name: {"shape": list(t.axes), "dtype": t.dtype} for t in call.inputs},
        "outputs": {t.name: {"shape": list(t.axes), "dtype": t.dtype} for t in call.outputs},
    }


def reference_source(family: Family, model: str) -> str:
    call = family.call
    params = ", ".join(t.name for t in call.inputs)
    return (
        f'"""{call.kind} of {model}, captured at {call.aten}: the same torch op the model ran."""\n\n'
        "import torch\nimport torch.nn.functional as F\n\n\n"
        f"@torch.no_grad()\ndef run({params}):\n    return {call.reference}\n"
    )


def workload_lines(family: Family) -> str:
    lines = []
    for w in family.workloads:
        tag = family.name + "/" + ",".join(f"{k}={v}" for k, v in w.axes.items())
        lines.append({
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "pytest-solbench-capture:" + tag)),
            "axes": w.axes,
            "inputs": {t.name: {"type": "random"} for t in family.call.inputs},
        })  # fmt: skip
    return "".join(json.dumps(line) + "\n" for line in lines)


def _dumps(definition: dict) -> str:
    """JSON as the library's files read: one field a line, one axis or tensor a line."""
    fields = []
    for key, value in definition.items():
        if isinstance(value, dict) and value:
            entries = ",\n".join(f"    {json.dumps(k)}: {json.dumps(v)}" for k, v in value.items())
            fields.append(f"  {json.dumps(key)}: {{\n{entries}\n  }}")
        else:
            fields.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(fields) + "\n}\n"


def write(family: Family, root: Path, model: str, share: float) -> Path:
    """Write one family as a problem folder under ``root``; return its definition file. A folder of the same name
    (an earlier capture of the same op) is overwritten."""
    folder = root / family.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "definition.json").write_text(_dumps(definition_json(family, model, share)))
    (folder / "reference.py").write_text(reference_source(family, model))
    (folder / "workload.jsonl").write_text(workload_lines(family))
    return folder / "definition.json"

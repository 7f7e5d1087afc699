"""The FlashInfer Trace schema loader: both layouts, every axis kind, and errors that name file and field."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_solbench.data.trace import (
    TraceError,
    is_problem_file,
    load_problem,
    parse_definition,
    parse_workload,
    problem_files,
)

RMSNORM = {
    "name": "rmsnorm_h4096",
    "op_type": "rmsnorm",
    "tags": ["model:llama-3.1-8b", "stage:forward"],
    "axes": {"batch_size": {"type": "var"}, "hidden_size": {"type": "const", "value": 4096}},
    "inputs": {
        "hidden_states": {"shape": ["batch_size", "hidden_size"], "dtype": "bfloat16"},
        "weight": {"shape": ["hidden_size"], "dtype": "bfloat16"},
    },
    "outputs": {"output": {"shape": ["batch_size", "hidden_size"], "dtype": "bfloat16"}},
    "reference": "def run(hidden_states, weight):\n    return hidden_states * weight\n",
    "fi_api": "flashinfer.norm.rmsnorm",
}


def _definition(**changes: object) -> dict:
    data = json.loads(json.dumps(RMSNORM))
    data.update(changes)
    return data


def test_definition_fields_are_read_and_unknown_fields_kept() -> None:
    d = parse_definition(_definition(), Path("d.json"))
    assert [s.name for s in d.inputs] == ["hidden_states", "weight"]
    assert d.var_axes == ["batch_size"]
    assert d.extra == {"fi_api": "flashinfer.norm.rmsnorm"}
    assert d.tag("model") == "llama-3.1-8b"
    assert not d.is_backward
    assert d.shape_of(d.inputs[0], d.axis_values({"batch_size": 7})) == (7, 4096)


def test_expr_axes_are_evaluated_in_dependency_order() -> None:
    data = _definition(
        axes={
            "tokens": {"type": "expr", "expression": "batch * seq"},
            "batch": {"type": "var"},
            "seq": {"type": "var"},
            "half": {"type": "expr", "expression": "tokens // 2"},
        },
        inputs={"x": {"shape": ["tokens", "8"], "dtype": "float32"}, "s": {"shape": None, "dtype": "float32"}},
        outputs={"y": {"shape": ["half"], "dtype": "float32"}},
        reference="def run(x, s):\n    return x\n",
    )
    d = parse_definition(data, Path("d.json"))
    values = d.axis_values({"batch": 3, "seq": 5})
    assert values["tokens"] == 15 and values["half"] == 7
    assert d.shape_of(d.inputs[0], values) == (15, 8)
    assert d.inputs[1].is_scalar


def test_backward_from_tag_or_name() -> None:
    assert parse_definition(_definition(tags=["stage:backward"]), Path("d.json")).is_backward
    assert parse_definition(_definition(name="rmsnorm_backward_h4096", tags=[]), Path("d.json")).is_backward


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": 3}, "name", "must be str"),
        ({"axes": {"b": {"type": "weird"}}}, "axes.b.type", "'const', 'var' or 'expr'"),
        ({"axes": {"b": {"type": "const"}}}, "axes.b.value", "integer value"),
        ({"axes": {"b": {"type": "expr", "expression": "q*2"}}}, "axes.b.expression", "unknown axis 'q'"),
        ({"inputs": {"x": {"shape": ["batch_size"], "dtype": "float9"}}}, "inputs.x.dtype", "unknown dtype 'float9'"),
        ({"inputs": {"x": {"shape": ["nope"], "dtype": "float32"}}}, "inputs.x.shape", "unknown axis 'nope'"),
        ({"reference": "def forward(x):\n    return x\n"}, "reference", "no top-level function 'run'"),
        ({"reference": "def run(:\n"}, "reference", "does not parse"),
        ({"reference": "def run(weight, hidden_states):\n    pass\n"}, "reference", "must take the inputs in order"),
        ({"outputs": {"weight": {"shape": [], "dtype": "float32"}}}, "outputs.weight", "share a name"),
        ({"constraints": ["batch_size >"]}, "constraints[0]", "not a valid expression"),
        ({"constraints": "batch_size > 1"}, "constraints", "must be list"),
        ({"constraints": [["batch_size > 1"]]}, "constraints[0]", "must be an expression string"),
        ({"constraints": ["weight.__class__ is None"]}, "constraints[0]", "reading .__class__"),
        ({"constraints": ["open('x') is None"]}, "constraints[0]", "calling open"),
        ({"constraints": ["batch_size > seq_len"]}, "constraints[0]", "names 'seq_len', which is neither"),
        ({"axes": {"b": {"type": "expr", "expression": "b.__class__"}}}, "axes.b.expression", "reading .__class__"),
    ],
)
def test_malformed_definitions_name_the_field(changes: dict, field: str, words: str) -> None:
    with pytest.raises(TraceError) as info:
        parse_definition(_definition(**changes), Path("probs/d.json"))
    assert info.value.where == field
    assert words in info.value.message
    assert str(info.value).startswith("probs/d.json: ")


def test_missing_reference_is_read_from_reference_py(tmp_path: Path) -> None:
    data = _definition()
    del data["reference"]
    with pytest.raises(TraceError, match="reference.py"):
        parse_definition(data, tmp_path / "definition.json")
    (tmp_path / "reference.py").write_text("def run(hidden_states, weight):\n    return hidden_states\n")
    assert "return hidden_states" in parse_definition(data, tmp_path / "definition.json").reference


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"uuid": "u", "axes": {}}, "line 4: axes.batch_size", "needs a value"),
        ({"uuid": "u", "axes": {"batch_size": 2, "extra": 1}}, "line 4: axes.extra", "no var axis"),
        ({"uuid": "u", "axes": {"batch_size": -1}}, "line 4: axes.batch_size", "non-negative"),
        ({"uuid": "u", "axes": {"batch_size": 1}, "inputs": {"nope": {"type": "random"}}}, "line 4: inputs.nope", "no input"),
        ({"uuid": "u", "axes": {"batch_size": 1}, "inputs": {"weight": {"type": "magic"}}}, "line 4: inputs.weight.type", "random"),
        ({"uuid": "u", "axes": {"batch_size": 1}, "inputs": {"weight": {"type": "scalar"}}}, "line 4: inputs.weight.value", "value"),
        ({"uuid": "u", "axes": {"batch_size": 1}, "tolerance": {"atol": 1}}, "line 4: tolerance", "unknown key 'atol'"),
    ],
)
def test_malformed_workloads_name_line_and_field(raw: dict, field: str, words: str) -> None:
    definition = parse_definition(_definition(), Path("d.json"))
    with pytest.raises(TraceError) as info:
        parse_workload(raw, definition, Path("w.jsonl"), 4)
    assert info.value.where == field
    assert words in info.value.message


def test_workload_trace_lines_and_input_kinds() -> None:
    definition = parse_definition(_definition(), Path("d.json"))
    line = {
        "definition": "rmsnorm_h4096",
        "workload": {
            "uuid": "abc",
            "axes": {"batch_size": 7},
            "inputs": {"hidden_states": {"type": "safetensors", "path": "./blob/x.safetensors"}, "weight": {"type": "random"}},
            "tolerance": {"max_atol": 0.5},
        },
    }
    w = parse_workload(line, definition, Path("w.jsonl"), 1)
    assert w.uuid == "abc" and w.axes == {"batch_size": 7} and w.label() == "batch_size=7"
    assert w.inputs["hidden_states"].kind == "safetensors" and w.inputs["hidden_states"].tensor_key == "hidden_states"
    assert w.tolerance == {"max_atol": 0.5}


def test_both_layouts_load(tmp_path: Path) -> None:
    sol = tmp_path / "sol" / "rms"
    sol.mkdir(parents=True)
    (sol / "definition.json").write_text(json.dumps(RMSNORM))
    (sol / "workload.jsonl").write_text(json.dumps({"uuid": "a", "axes": {"batch_size": 2}}) + "\n\n")
    fib = tmp_path / "fib"
    (fib / "definitions" / "rmsnorm").mkdir(parents=True)
    (fib / "workloads" / "rmsnorm").mkdir(parents=True)
    (fib / "definitions" / "rmsnorm" / "rmsnorm_h4096.json").write_text(json.dumps(RMSNORM))
    (fib / "workloads" / "rmsnorm" / "rmsnorm_h4096.jsonl").write_text(
        json.dumps({"definition": "rmsnorm_h4096", "solution": None, "workload": {"uuid": "b", "axes": {"batch_size": 3}}})
    )
    a = load_problem(sol / "definition.json")
    b = load_problem(fib / "definitions" / "rmsnorm" / "rmsnorm_h4096.json")
    assert a.root == sol and [w.uuid for w in a.workloads] == ["a"]
    assert b.root == fib and [w.axes for w in b.workloads] == [{"batch_size": 3}]
    assert problem_files(tmp_path / "other.json") is None


def test_bad_json_names_the_file_and_a_malformed_workloads_file_is_still_an_error(tmp_path: Path) -> None:
    (tmp_path / "definition.json").write_text('{"name": "x",\n "axes": }')
    with pytest.raises(TraceError, match=r"definition.json: line 2: not valid JSON"):
        load_problem(tmp_path / "definition.json")
    (tmp_path / "definition.json").write_text(json.dumps(RMSNORM))
    (tmp_path / "workload.jsonl").write_text('{"uuid": "a", "axes": {"batch_size": 2}}\n{"uuid": \n')
    with pytest.raises(TraceError, match=r"workload.jsonl: line 2: not valid JSON"):
        load_problem(tmp_path / "definition.json")
    (tmp_path / "workload.jsonl").write_text("\n")
    with pytest.raises(TraceError, match="workload.jsonl: holds no workloads"):
        load_problem(tmp_path / "definition.json")


def test_a_definition_without_a_workloads_file_has_no_workloads(tmp_path: Path) -> None:
    (tmp_path / "definitions" / "rmsnorm").mkdir(parents=True)
    (tmp_path / "definitions" / "rmsnorm" / "rmsnorm_h4096.json").write_text(json.dumps(RMSNORM))
    problem = load_problem(tmp_path / "definitions" / "rmsnorm" / "rmsnorm_h4096.json")
    assert problem.workloads == () and not problem.has_workloads and problem.definition.name == "rmsnorm_h4096"


def test_blob_paths_resolve_against_the_blob_root_else_the_dataset_root(tmp_path: Path) -> None:
    (tmp_path / "definition.json").write_text(json.dumps(RMSNORM))
    plain = load_problem(tmp_path / "definition.json")
    assert plain.blob_root == tmp_path
    assert plain.blob_path("./blob/a.safetensors") == tmp_path / "blob" / "a.safetensors"
    moved = load_problem(tmp_path / "definition.json", blob_root=tmp_path / "hf")
    assert moved.root == tmp_path
    assert moved.blob_path("blob/a.safetensors") == tmp_path / "hf" / "blob" / "a.safetensors"
    assert moved.blob_path("/abs/a.safetensors") == Path("/abs/a.safetensors")


def test_only_definitions_are_problem_files(tmp_path: Path) -> None:
    files = {
        "sol/rms/definition.json": json.dumps(RMSNORM),
        "sol/rms/solution_triton.json": json.dumps({"name": "s", "definition": "rmsnorm_h4096"}),
        "fib/definitions/rmsnorm/rmsnorm_h4096.json": json.dumps(RMSNORM),
        "fib/definitions/index.json": json.dumps({"name": "all", "definitions": []}),
        "fib/definitions/rmsnorm/broken.json": '{"name": ',
        "fib/solutions/alice/rmsnorm/rmsnorm_h4096/s.json": json.dumps(RMSNORM),
        "fib/tests/references/test_rmsnorm.py": "def test(): pass\n",
        "fib/traces/alice/rmsnorm/rmsnorm_h4096.jsonl": "{}\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if is_problem_file(p))
    assert found == ["fib/definitions/rmsnorm/broken.json", "fib/definitions/rmsnorm/rmsnorm_h4096.json",
                     "sol/rms/definition.json"]  # fmt: skip


SWAPPED = "def run(weight, hidden_states):\n    return hidden_states * weight\n"


def test_a_reference_taking_the_inputs_in_another_order_binds_by_name_only_when_asked() -> None:
    with pytest.raises(TraceError, match="must take the inputs in order.*bind_reference_by_name"):
        parse_definition(_definition(reference=SWAPPED), Path("d.json"))
    by_option = parse_definition(_definition(reference=SWAPPED), Path("d.json"), bind_by_name=True)
    opted_in = _definition(reference=SWAPPED, solbench={"bind_reference_by_name": True})
    by_field = parse_definition(opted_in, Path("d.json"))
    assert by_option.bind_by_name and by_field.bind_by_name
    assert by_field.reference_params == ("weight", "hidden_states") and "solbench" not in by_field.extra
    plain = parse_definition(_definition(), Path("d.json"))
    assert not plain.bind_by_name and plain.reference_params == ("hidden_states", "weight")


def test_a_reference_bound_by_name_is_called_positionally_in_the_definitions_order() -> None:
    def run(weight, hidden_states):
        return f"w={weight} x={hidden_states}"

    bound = parse_definition(_definition(reference=SWAPPED), Path("d.json"), bind_by_name=True)
    assert bound.positional_reference(run)("X", "W") == "w=W x=X"  # called as run(hidden_states, weight)
    plain = parse_definition(_definition(), Path("d.json"))
    assert plain.positional_reference(run) is run


@pytest.mark.parametrize(
    ("reference", "words"),
    [
        ("def run(weight):\n    return weight\n", "lacks the input 'hidden_states'"),
        ("def run(weight, hidden_states, eps):\n    return weight\n", "takes 'eps', which is not an input"),
    ],
)
def test_binding_by_name_still_needs_the_inputs_names(reference: str, words: str) -> None:
    with pytest.raises(TraceError, match=words):
        parse_definition(_definition(reference=reference), Path("d.json"), bind_by_name=True)


def test_the_solbench_extension_field_is_checked() -> None:
    with pytest.raises(TraceError) as info:
        parse_definition(_definition(solbench={"bind_by_nam": True}), Path("d.json"))
    assert info.value.where == "solbench"


def test_constraints_over_axes_are_checked_when_workloads_are_read(tmp_path: Path) -> None:
    data = _definition(
        axes={"batch_size": {"type": "var"}, "hidden_size": {"type": "const", "value": 4096}, "len_indptr": {"type": "var"}},
        constraints=["len_indptr == batch_size + 1", "hidden_states.shape[0] == batch_size"],
    )
    (tmp_path / "definition.json").write_text(json.dumps(data))
    good = {"uuid": "a", "axes": {"batch_size": 2, "len_indptr": 3}}
    (tmp_path / "workload.jsonl").write_text(json.dumps(good) + "\n")
    assert len(load_problem(tmp_path / "definition.json").workloads) == 1
    bad = {"uuid": "b", "axes": {"batch_size": 2, "len_indptr": 5}}
    (tmp_path / "workload.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(TraceError, match="line 2: batch_size=2, len_indptr=5 breaks constraint 'len_indptr == batch_size"):
        load_problem(tmp_path / "definition.json")


PEER_DATASETS = [Path(p) for p in os.environ.get("SOLBENCH_PEER_DATASETS", "").split(os.pathsep) if p]


@pytest.mark.skipif(not PEER_DATASETS, reason="set SOLBENCH_PEER_DATASETS to dataset roots (os.pathsep-separated)")
@pytest.mark.parametrize("root", PEER_DATASETS, ids=str)
def test_a_peer_dataset_loads_unchanged(root: Path) -> None:
    """Every definition and every workload line of a downloaded FlashInfer-Trace or SOL-ExecBench folder loads;
    a reference that takes the inputs in another order loads only when bound by name."""
    definitions = [p for p in sorted(root.rglob("*.json")) if is_problem_file(p)]
    workload_files = {p for p in root.rglob("*.jsonl") if p.name == "workload.jsonl" or "workloads" in p.parts}
    lines = sum(1 for f in workload_files for text in f.read_text().splitlines() if text.strip())
    loaded = [load_problem(p, bind_by_name=True) for p in definitions]
    assert definitions and sum(len(p.workloads) for p in loaded) == lines
    for path in definitions:
        try:
            load_problem(path)
        except TraceError as exc:
            assert "must take the inputs in order" in exc.message, exc

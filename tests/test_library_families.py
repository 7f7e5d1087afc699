"""problems/families.py writes the problems that one operator contributes at many models' shapes: the committed
folders must be exactly what it writes, so that a change goes into its table, not into 75 files by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_library import PROBLEMS, load_module

FAMILIES = load_module(PROBLEMS / "families.py", "_library_families")


def test_family_folders_are_what_the_table_writes(tmp_path: Path) -> None:
    names = FAMILIES.write(tmp_path)
    assert len(names) == len(FAMILIES.FAMILY) >= 70
    stale = [
        f"{name}/{file.name}"
        for name in names
        for file in sorted((tmp_path / name).iterdir())
        if not (PROBLEMS / name / file.name).is_file() or (PROBLEMS / name / file.name).read_text() != file.read_text()
    ]
    assert not stale, f"run `python problems/families.py`: {stale[:5]}"


def test_uuids_are_uuid4_and_fixed_by_name_and_shape() -> None:
    import uuid

    first = FAMILIES.uuid_for("x", {"num_tokens": 7})
    assert uuid.UUID(first).version == 4
    assert first == FAMILIES.uuid_for("x", {"num_tokens": 7}) != FAMILIES.uuid_for("x", {"num_tokens": 8})


def test_every_entry_names_its_model_in_the_library_spelling() -> None:
    for entry in FAMILIES.FAMILY:
        assert entry.name.startswith(entry.model.prefix + "_"), entry.name
        assert entry.model.label in FAMILIES.render(entry)["definition.json"], entry.name


SAMPLING = [e for e in FAMILIES.FAMILY if e.family == "top_k_top_p_renorm"]


def test_sampling_problems_cover_the_other_vocabularies() -> None:
    assert {e.constants["vocab"] for e in SAMPLING} >= {129280, 151936, 152064, 202048, 262208}


@pytest.mark.parametrize("entry", SAMPLING, ids=[e.name for e in SAMPLING])
def test_sampling_keeps_at_most_top_k_of_the_most_probable_tokens(entry) -> None:
    torch = pytest.importorskip("torch")
    from test_library import find, make_inputs, reference_module

    p = find(entry.name)
    inputs = make_inputs(p.definition, p.workloads[0])
    assert (inputs["temperature"], inputs["top_k"], inputs["top_p"]) == tuple(
        entry.constants[key] for key in ("temperature", "top_k", "top_p")
    )
    probs = reference_module(p.definition).run(*inputs.values())
    full = torch.softmax(inputs["logits"].float() / inputs["temperature"], dim=-1)
    assert torch.allclose(probs.sum(dim=-1), torch.ones(len(probs)))
    for row, kept in zip(full, probs):
        chosen = kept > 0
        assert 1 <= int(chosen.sum()) <= inputs["top_k"] + 2  # ties at the k-th value stay together
        assert row[chosen].min() >= row[~chosen].max(), "a dropped token is more probable than a kept one"

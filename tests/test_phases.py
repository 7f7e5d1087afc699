"""``judge.phases``: the judge's time on an item, per phase, each second counted once."""

from __future__ import annotations

import pytest

from pytest_solbench.judge import phases


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict:
    """``perf_counter`` moved by hand."""
    now = {"s": 100.0}
    monkeypatch.setattr(phases.time, "perf_counter", lambda: now["s"])
    return now


def test_a_phase_inside_another_is_taken_out_of_the_outer_ones_time(clock: dict) -> None:
    phases.begin()
    with phases.phase("outer"):
        clock["s"] += 1.0
        with phases.phase("inner"):
            clock["s"] += 2.0
        clock["s"] += 0.5
    clock["s"] += 0.25  # in no phase
    assert phases.taken() == {"inner": 2.0, "outer": 1.5, "other": 0.25}


def test_repeats_add_up_and_begin_forgets_the_last_item(clock: dict) -> None:
    phases.begin()
    for _ in range(3):
        with phases.phase("call"):
            clock["s"] += 1.0
    assert phases.taken()["call"] == 3.0
    phases.begin()
    with phases.phase("load"):
        clock["s"] += 4.0
    assert phases.taken() == {"load": 4.0, "other": 0.0}


def test_a_phase_left_by_an_exception_still_counts(clock: dict) -> None:
    phases.begin()
    with pytest.raises(RuntimeError):
        with phases.phase("outer"):
            with phases.phase("inner"):
                clock["s"] += 1.0
                raise RuntimeError
    clock["s"] += 1.0
    assert phases.taken() == {"inner": 1.0, "other": 1.0, "outer": 0.0}


def test_the_judges_memory_note_is_written_only_where_asked(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``judge.memory``: nothing without ``SOLBENCH_JUDGE_MEMORY``; with it, a line per item naming a cycle's tensors
    found by the collection (on CPU: none on the GPU to count, so the line says 0)."""
    import json

    from pytest_solbench.judge import memory

    monkeypatch.delenv(memory.ENV, raising=False)
    memory.note("nothing")
    assert list(tmp_path.iterdir()) == []
    log = tmp_path / "memory.jsonl"
    monkeypatch.setenv(memory.ENV, str(log))
    memory.note("kernel workload")
    line = json.loads(log.read_text())
    assert line["item"] == "kernel workload" and line["cycled_cuda_mib"] == 0.0 and "error" not in line

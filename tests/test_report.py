"""The report's pure parts: trace lines, aggregation, tables."""

from __future__ import annotations

import pytest

from pytest_solbench.record import ItemResult
from pytest_solbench.reports.terminal import format_table


def _result(**changes: object) -> ItemResult:
    base = dict(nodeid="n", problem="p", kernel="k", workload_uuid="u", workload_label="m=1", status="PASSED",
                device="cuda", hardware="h100_sxm", t_sol_ms=0.01, bound="memory", t_k_ms=0.02, t_b_ms=0.04,
                score=0.75, pct_sol=0.5, speedup=2.0)  # fmt: skip
    base.update(changes)
    return ItemResult(**base)  # type: ignore[arg-type]


def test_table_groups_by_problem_and_fits_the_width_wrapping_long_labels_whole() -> None:
    long = "batch_size:256-num_kv_tokens:131072-max_pages_per_seq:128-num_pages:16384"
    lines = format_table([_result(workload_label=long), _result(problem="q")], width=80)
    assert lines[0] == "p" and "q" in lines
    assert all(len(line) <= 80 for line in lines if not line.startswith(("mean", "suite", "  mean")))
    assert not any("…" in line for line in lines)
    first = lines.index(next(line for line in lines if line.startswith("  batch_size:256-")))
    wrapped = [line.split()[0] for line in lines[first:first + 4]]
    assert "".join(wrapped[:2]) in long and "".join(w for w in wrapped if w.endswith("-") or ":" in w).startswith(
        "batch_size:256-num_kv_tokens:131072-")  # broken at its separators, every character kept
    assert "PASSED" in lines[first] and "PASSED" not in lines[first + 1]
    assert "suite SOL Score (best kernel per problem, 2 problems): 0.750" in lines
    assert lines[-1].endswith("1 = SOL")  # the legend closes the table


def test_columns_and_sorting_as_chosen() -> None:
    from pytest_solbench.reports.terminal import column_key

    def timed(label: str, samples: list[float], score: float) -> ItemResult:
        return _result(workload_label=label, t_k_ms=sorted(samples)[len(samples) // 2], score=score,
                       kernel_timing={"samples_ms": samples, "method": "cupti"})  # fmt: skip

    results = [timed("m=1", [3.0, 3.0, 5.0], 0.6), timed("m=2", [1.0, 2.0, 9.0], 0.9), _result(workload_label="m=3",
               t_k_ms=None, score=None, status="RUNTIME_ERROR")]  # fmt: skip
    columns = tuple(column_key(c) for c in ("kernel", "T_k", "min", "spread", "n", "score"))
    lines = format_table(results, columns=columns, sort="min")
    assert lines[1].split() == ["workload", "kernel", "T_k", "min", "IQR", "n", "score"]
    assert [line.split()[0] for line in lines[2:5]] == ["m=2", "m=1", "m=3"]  # fastest min first, untimed last
    assert lines[2].split()[3:] == ["1ms", "4ms", "3", "0.900"]
    by_score = format_table(results, columns=columns, sort="score")
    assert [line.split()[0] for line in by_score[2:5]] == ["m=2", "m=1", "m=3"]  # best score first
    with pytest.raises(ValueError, match="unknown column 'bogus': choose from workload, kernel"):
        column_key("bogus")


def test_a_table_of_nothing_shown_or_empty_labels_does_not_break() -> None:
    assert format_table([], width=80)[-1].endswith("which term")
    assert any(line.startswith("  ") and "PASSED" in line for line in format_table([_result(workload_label="")]))


def test_control_characters_of_a_kernels_words_are_shown_as_escapes() -> None:
    """Red-team round 8, j05: C0 but tab and newline, DEL and C1 become ``\\xNN``; other text, and text escaped
    once already, stays as it is. An outcome's log, which carries a kernel's error and stderr, is escaped when made."""
    from pytest_solbench.protocol import Status, escape_controls, failure

    raw = "a\x1b[1A\x1b[2K\r\x00\x07\x7f\x9b8m\x85\tb\nc é → ü"
    shown = escape_controls(raw)
    assert shown == "a\\x1b[1A\\x1b[2K\\x0d\\x00\\x07\\x7f\\x9b8m\\x85\tb\nc é → ü"
    assert escape_controls(shown) == shown
    assert failure(Status.RUNTIME_ERROR, raw).log == shown

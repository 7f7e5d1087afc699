"""docs/catalogue.md is the render of the bundled library, and the renderer says what each problem is."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_solbench.reports.catalogue import Row, catalogue, main, render
from pytest_solbench.data.library import bundled_problems

ROOT = Path(__file__).resolve().parents[1]


def test_committed_catalogue_is_the_render_of_the_bundled_library() -> None:
    pytest.importorskip("torch")
    committed = (ROOT / "docs" / "catalogue.md").read_text()
    assert committed == catalogue(bundled_problems()), (
        "docs/catalogue.md is stale: run `python -m pytest_solbench.reports.catalogue > docs/catalogue.md`"
    )


def test_render_writes_one_row_per_problem_and_the_totals() -> None:
    rows = [
        Row("a_fwd", "model-a", "gemm", "forward", "bf16", ("bfloat16",), ("num_tokens",), ((1,), (64,)),
            "compute", 300.0),
        Row("b_bwd", "model-b", "attention_backward", "backward", "fp8", ("float8_e4m3fn", "float32"),
            ("batch_size", "seq_len"), ((1, 512), (2, 4608)), "memory", 0.5),
    ]  # fmt: skip
    text = render(rows)
    first = "| `a_fwd` | model-a | gemm | forward | bf16 | bfloat16 | 2: num_tokens 1, 64 | compute (300 FLOP/B) |"
    assert first in text
    assert "2: (batch_size, seq_len) (1, 512), (2, 4608) | memory (0.5 FLOP/B) |" in text
    assert "- problems: 2\n- models: 2\n- by precision: bf16 1, fp8 1\n- by pass: backward 1, forward 1\n" in text


def test_main_refuses_a_missing_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nowhere")]) == 2
    assert "not a folder of problems" in capsys.readouterr().err

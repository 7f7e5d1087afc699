"""The one expression evaluator: what it allows, what it refuses, and errors that name the expression."""

from __future__ import annotations

import pytest

from pytest_solbench.data.expressions import ExpressionError, eval_expression, evaluate_constraint, expression_names

AXES = {"a": 2, "b": 3, "xs": (4, 5, 6)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a*b+1", 7),
        ("cdiv(a, 4)", 1),
        ("max(a, b) ** 2", 9),
        ("-a + b // 2", -1),
        ("(a + b) % 4", 1),
        ("1 < a <= b < 4", True),
        ("1 < a > b", False),  # chained: both links must hold
        ("a == 2 and not b == 2", True),
        ("a == 3 or b", 3),
        ("a if a > b else b", 3),
        ("xs[-1] + xs[0]", 10),
        ("len(xs[1:]) + sum(xs[::2])", 12),
        ("ceil(b / a) + floor(b / a) + round(2.6) + abs(-1)", 7),
        ("all(xs) and any([0, a]) and bool(int(float('3')))", True),
        ("min(xs) in xs and 7 not in xs", True),
        ("a & b | 4", 6),
    ],
)
def test_the_subset_evaluates_like_python(text: str, expected: object) -> None:
    assert eval_expression(text, AXES) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("__import__('os')", "calling __import__"),
        ("a.real", "reading .real"),
        ("xs.__class__", "reading .__class__"),
        ("xs.count(4)", "calling xs.count"),
        ("lambda: 1", "Lambda"),
        ("[x for x in xs]", "ListComp"),
        ("(y := 1)", "NamedExpr"),
        ("f'{a}'", "JoinedStr"),
        ("b'x'", "the constant b'x'"),
        ("max(*xs)", "unpacking arguments"),
    ],
)
def test_anything_else_is_refused_before_it_runs(text: str, words: str) -> None:
    with pytest.raises(ExpressionError) as info:
        eval_expression(text, {})  # refused at compile time: no value is needed
    assert repr(text) in str(info.value) and words in str(info.value)


def test_tensor_metadata_and_methods_as_the_peers_constraints_use_them() -> None:
    torch = pytest.importorskip("torch")
    names = {
        "kv_indptr": torch.tensor([0, 3, 7], dtype=torch.int32),
        "gemm1_weights": torch.zeros(4, 6, 2),
        "num_kv_indices": 7,
        "intermediate_size": 3,
    }
    for text in (
        "num_kv_indices == kv_indptr[-1].item()",
        "gemm1_weights.shape[1] == 2 * intermediate_size",
        "gemm1_weights.ndim == 3 and gemm1_weights.dim() == 3 and gemm1_weights.size(0) == 4",
        "gemm1_weights.numel() == 48 and (kv_indptr[1:] >= kv_indptr[:-1]).all()",
        "kv_indptr.sum().item() == 10 and kv_indptr.max() == 7 and kv_indptr.min() == 0 and kv_indptr.any()",
        "gemm1_weights.dtype == kv_indptr.dtype or gemm1_weights[:, 0, ...].shape == (4, 2)",
    ):
        assert evaluate_constraint(text, names), text


def test_constraint_errors_name_the_constraint() -> None:
    with pytest.raises(ExpressionError, match="constraint 'n == m' names 'm', which is neither an axis nor an input"):
        evaluate_constraint("n == m", {"n": 1})
    with pytest.raises(ExpressionError, match=r"constraint 'n // 0' could not be evaluated: ZeroDivisionError"):
        evaluate_constraint("n // 0", {"n": 1})
    with pytest.raises(ExpressionError, match="constraint 'n ==' could not be evaluated: SyntaxError"):
        evaluate_constraint("n ==", {"n": 1})


def test_an_unknown_name_is_a_key_error_for_the_axis_solver() -> None:
    with pytest.raises(KeyError, match="q"):
        eval_expression("q * 2", {})


def test_names_leave_out_called_functions() -> None:
    assert expression_names("max(a, len(xs)) + x.shape[0] + cdiv(n, 2)") == {"a", "xs", "x", "n"}

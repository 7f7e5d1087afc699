"""The correctness contract: default tolerances, the element and output rules, and the failure message."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from pytest_solbench.worker import check  # noqa: E402
from pytest_solbench.data import inputs
from pytest_solbench.worker.check import Mismatch, check_output, compare, default_tolerance, tolerance_for  # noqa: E402
from pytest_solbench.worker.check import reference_fault  # noqa: E402
from pytest_solbench.data.trace import Tolerance, parse_definition  # noqa: E402
from pytest_solbench.protocol import Status  # noqa: E402

BF16 = Tolerance(1e-2, 1e-2)
EXACT_RATIO = Tolerance(1e-2, 1e-2, required_matched_ratio=1.0)


# ---------------------------------------------------------------- tolerances


@pytest.mark.parametrize(
    ("dtype", "atol", "rtol", "ratio", "cap", "l2"),
    [
        ("float32", 1e-4, 1e-4, 0.99, None, 0.0625),
        ("float16", 1e-2, 1e-2, 0.99, None, 0.03125),
        ("bfloat16", 1e-2, 1e-2, 0.99, None, 0.03125),
        ("float8_e4m3fn", 0.125, 0.125, 0.95, 32.0, 0.125),
        ("float8_e5m2", 0.25, 0.25, 0.95, 8192.0, 0.25),
        ("float4_e2m1", 0.5, 0.5, 0.9, 2.0, None),
        ("int32", 0.0, 0.0, 1.0, None, None),
        ("bool", 0.0, 0.0, 1.0, None, None),
    ],
)
def test_default_tolerance_by_dtype(dtype, atol, rtol, ratio, cap, l2):
    assert default_tolerance(dtype) == Tolerance(atol, rtol, ratio, cap, max_relative_l2_error=l2)


@pytest.mark.parametrize(
    ("dtype", "k", "atol"),
    [
        ("bfloat16", 16384, 0.02),  # sqrt(16384 / 4096) = 2
        ("bfloat16", 4096, 0.01),
        ("bfloat16", 64, 0.01),  # never tighter than the base
        ("float8_e4m3fn", 65536, 0.5),
        ("float32", 16384, 1e-4),  # fp32 outputs are not scaled
        ("int32", 16384, 0.0),
    ],
)
def test_atol_grows_with_the_reduction_length(dtype, k, atol):
    tol = default_tolerance(dtype, reduction_len=k)
    assert tol.max_atol == pytest.approx(atol)
    assert tol.max_rtol == default_tolerance(dtype).max_rtol


def test_the_workloads_own_keys_win():
    tol = tolerance_for("bfloat16", {"max_atol": 1e-5, "max_rtol": 0.05, "allow_negative_inf": True})
    assert tol == Tolerance(1e-5, 0.05, 0.99, None, True, max_relative_l2_error=0.05)  # rtol raises it, never lowers it
    assert tolerance_for("bfloat16", {"max_rtol": 0.1}).max_relative_l2_error == 0.1  # but raises it
    assert tolerance_for("bfloat16", {"max_rtol": 0.5, "max_relative_l2_error": 0.01}).max_relative_l2_error == 0.01
    assert tolerance_for("float4_e2m1", {"max_rtol": 0.9}).max_relative_l2_error is None  # fp4 keeps its own rules
    assert tolerance_for("float8_e4m3fn", {"max_error_cap": None}).max_error_cap is None
    assert tolerance_for("float32", None) == default_tolerance("float32")
    assert tolerance_for("bfloat16", {"required_matched_ratio": 1.0}, reduction_len=16384).max_atol == pytest.approx(0.02)


# ---------------------------------------------------------------- the element and output rules


def test_a_close_output_passes_with_its_error_stats():
    expected = torch.linspace(-2, 2, 1000)
    got = expected + 0.004
    stats, mismatch = check_output("y", got, expected, BF16)
    assert mismatch is None
    assert stats.max_abs_error == pytest.approx(0.004, rel=1e-3) and stats.matched_ratio == 1.0
    assert set(stats.to_dict()) >= {"max_absolute_error", "max_relative_error", "matched_ratio"}


@pytest.mark.parametrize(
    ("index", "delta", "fails"),
    [
        ((3, 4), 0.5, True),
        ((0, 0), -0.5, True),
        ((9, 9), 0.5, True),
        ((3, 4), 0.009, False),  # within atol + rtol * |expected|
    ],
)
def test_one_wrong_element_is_found_with_its_index(index, delta, fails):
    expected = torch.full((10, 10), 0.1)
    got = expected.clone()
    got[index] += delta
    stats, mismatch = check_output("y", got, expected, EXACT_RATIO)
    assert (mismatch is not None) == fails
    if fails:
        assert mismatch.status == "INCORRECT_NUMERICAL"
        assert (mismatch.mismatched, mismatch.total) == (1, 100)
        assert mismatch.max_abs_index == index and mismatch.max_abs_error == pytest.approx(abs(delta), rel=1e-5)
        assert mismatch.samples[0][0] == index
        assert stats.matched_ratio == pytest.approx(0.99)


@pytest.mark.parametrize(("wrong", "passes"), [(0, True), (1, True), (2, False)])
def test_matched_ratio_boundary(wrong, passes):
    expected = torch.ones(100)
    got = expected.clone()
    got[:wrong] = 5.0
    mismatch = compare("y", got, expected, BF16)  # 99 % must match
    assert (mismatch is None) == passes


def test_a_nan_fails_even_when_the_ratio_would_allow_it():
    expected = torch.ones(1000)
    got = expected.clone()
    got[500] = float("nan")
    stats, mismatch = check_output("y", got, expected, BF16)
    assert mismatch is not None and mismatch.mismatched == 1 and stats.nonfinite_elements == 1
    assert "1 NaN or Inf in the output" in mismatch.message()
    assert stats.max_abs_error == 0.0  # stats cover the finite elements only


@pytest.mark.parametrize(
    ("got_value", "expected_value", "allow", "passes"),
    [
        (-math.inf, -math.inf, False, False),
        (-math.inf, -math.inf, True, True),
        (math.inf, math.inf, True, False),  # only -inf is ever allowed
        (-math.inf, 1.0, True, False),  # and only where the reference has it
        (1.0, -math.inf, True, False),
    ],
)
def test_negative_infinity_only_when_the_workload_allows_it(got_value, expected_value, allow, passes):
    expected = torch.ones(8)
    got = expected.clone()
    expected[2], got[2] = expected_value, got_value
    tol = Tolerance(1e-2, 1e-2, required_matched_ratio=1.0, allow_negative_inf=allow)
    assert (compare("lse", got, expected, tol) is None) == passes


def test_an_all_zero_output_fails_against_a_nonzero_reference():
    expected = torch.zeros(1000)
    expected[::100] = 1e-3  # every element is within atol of zero...
    mismatch = compare("y", torch.zeros(1000), expected, BF16)
    assert mismatch is not None and mismatch.mismatched == 0  # ...yet an all-zero output fails
    assert "all zeros" in mismatch.message()
    assert compare("y", torch.zeros(1000), torch.zeros(1000), BF16) is None


def test_the_error_cap_bounds_the_few_elements_the_ratio_lets_through():
    expected = torch.ones(1000)
    got = expected.clone()
    got[7] = 100.0
    assert compare("y", got, expected, BF16) is None
    mismatch = compare("y", got, expected, dataclasses.replace(BF16, max_error_cap=1.0))
    assert mismatch is not None and "max abs error 99 is above the error cap 1" in mismatch.message()


def test_integers_compare_exactly_even_when_large():
    expected = torch.full((4,), 2**40, dtype=torch.int64)
    got = expected.clone()
    got[1] += 1  # float32 could not see this
    mismatch = compare("idx", got, expected, default_tolerance("int64"), "int64")
    assert mismatch is not None and mismatch.max_abs_index == (1,) and mismatch.max_abs_error == 1.0


def test_poisoned_outputs_fail_when_not_written():
    defn = parse_definition(
        {"name": "p", "axes": {"n": {"type": "const", "value": 8}}, "inputs": {"x": {"shape": ["n"], "dtype": "float32"}},
         "outputs": {"y": {"shape": ["n", "n"], "dtype": "bfloat16"}, "i": {"shape": ["n"], "dtype": "int32"},
                     "q": {"shape": ["n", "n"], "dtype": "float4_e2m1"}},
         "reference": "def run(x):\n    return x\n"},
        Path("p/definition.json"),
    )  # fmt: skip
    y, i, q = inputs.allocate_outputs(defn, {"n": 8}, "cpu")
    ref_y = torch.randn(8, 8).to(torch.bfloat16)
    mismatch = compare("y", y, ref_y, default_tolerance("bfloat16"), "bfloat16")
    assert mismatch.mismatched == 64 and "were they all written?" in mismatch.message()
    assert "max abs error" not in mismatch.message()  # nothing finite to measure
    assert compare("i", i, torch.arange(8, dtype=torch.int32), default_tolerance("int32"), "int32").mismatched == 8
    ref_q = inputs.pack_fp4(torch.randn(8, 8))
    assert compare("q", q, ref_q, default_tolerance("float4_e2m1"), "float4_e2m1") is not None


def test_fp4_outputs_compare_by_value_at_logical_indices():
    ref = inputs.pack_fp4(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
    got = inputs.pack_fp4(torch.tensor([[1.0, 2.0, 3.0, -6.0]]))
    mismatch = compare("q", got, ref, Tolerance(0.5, 0.5, 1.0), "float4_e2m1")
    assert mismatch is not None and (mismatch.mismatched, mismatch.total) == (1, 4)
    assert mismatch.max_abs_index == (0, 3) and mismatch.samples == (((0, 3), -6.0, 4.0),)


def test_large_outputs_are_compared_in_chunks(monkeypatch):
    monkeypatch.setattr(check, "_CHUNK_ELEMENTS", 64)
    expected = torch.randn(40, 25)
    got = expected.clone()
    got[3, 1] += 0.5
    got[38, 24] += 2.0  # the worst error, in the last chunk
    got[20, 0] = float("nan")
    stats, mismatch = check_output("y", got, expected, BF16)
    assert (mismatch.mismatched, mismatch.total, mismatch.nonfinite_elements) == (3, 1000, 1)
    assert mismatch.max_abs_index == (38, 24) and stats.max_abs_error == pytest.approx(2.0, rel=1e-5)
    assert [row[0] for row in mismatch.samples] == [(3, 1), (20, 0), (38, 24)]


# ---------------------------------------------------------------- type, shape, dtype


class LazyTensor(torch.Tensor):
    pass


@pytest.mark.parametrize(
    ("got", "status", "text"),
    [
        (torch.zeros(4, 8), "INCORRECT_SHAPE", "got shape (4, 8), expected (4, 16)"),
        (torch.zeros(4, 16, dtype=torch.float16), "INCORRECT_DTYPE", "got dtype float16, expected bfloat16"),
        (torch.zeros(4, 16, dtype=torch.bfloat16).as_subclass(LazyTensor), "INCORRECT_DTYPE", "subclasses are not"),
        (torch.nn.Parameter(torch.zeros(4, 16, dtype=torch.bfloat16)), "INCORRECT_DTYPE", "Parameter"),
        ([[0.0] * 16] * 4, "INCORRECT_DTYPE", "expected a torch.Tensor"),
        (None, "INCORRECT_DTYPE", "is None"),
    ],
)
def test_type_shape_and_dtype_come_first(got, status, text):
    expected = torch.zeros(4, 16, dtype=torch.bfloat16)
    stats, mismatch = check_output("y", got, expected, BF16, "bfloat16")
    assert stats is None and mismatch.status == status
    assert mismatch.message() == f"output 'y': {mismatch.reasons[0]}" and text in mismatch.message()


def test_the_definition_dtype_is_what_must_match():
    expected = torch.zeros(4)  # a reference that returned float32 where the definition says bfloat16
    assert compare("y", torch.zeros(4), expected, BF16, "bfloat16").status == "INCORRECT_DTYPE"
    assert compare("y", torch.zeros(4), expected, BF16) is None


@pytest.mark.parametrize(
    ("got", "passes"),
    [(2.0, True), (2.001, True), (torch.tensor(2.0), True), (3.0, False), ("2.0", False), (torch.tensor([2.0]), False)],
)
def test_scalar_outputs(got, passes):
    mismatch = compare("total", got, 2.0, BF16)
    assert (mismatch is None) == passes


# ---------------------------------------------------------------- the message


def test_the_message_is_short_and_says_what_failed():
    expected = torch.zeros(100, 600)
    expected[17, 402] = 0.2197
    got = expected.clone()
    got[17, 402] = 0.2510
    got[50:60, :] = 1.0  # 6,000 more mismatches: still five rows
    text = compare("y", got, expected, BF16).message()
    lines = text.splitlines()
    assert lines[0] == "output 'y': 6,001 / 60,000 elements (10%) mismatched, 99% must match (atol 0.01, rtol 0.01)"
    assert lines[1].startswith("max abs error 1 at (50, 0); max rel error")
    assert lines[2] == ("48 or more of 64 elements in a row along the last dimension are wrong (from (50, 0)): "
                        "skipped work, not rounding")
    assert lines[3].split() == ["index", "|", "got", "|", "expected"]
    assert lines[4].split() == ["(17,", "402)", "|", "0.251", "|", "0.2197"]
    assert len(lines) == 9 and len(text) < 700


# ---------------------------------------------------------------- skipped work inside the matched ratio


def test_a_skipped_row_fails_though_the_ratio_holds():
    """Red-team round 1 (matched_ratio_skip): 0.99 % of the rows left at zero passed the 99 % ratio."""
    expected = torch.randn(1000, 256, generator=torch.Generator().manual_seed(0)) + 3.0
    got = expected.clone()
    got[:9] = 0.0  # 0.9 % of the elements, nine whole rows
    got[0, ::7] = expected[0, ::7]  # where the true value is near zero, a zero still passes: the run is not cut
    mismatch = compare("y", got, expected, BF16)
    assert mismatch is not None and "skipped work" in mismatch.message()


def test_a_skipped_block_within_rows_fails_across_chunks(monkeypatch):
    monkeypatch.setattr(check, "_CHUNK_ELEMENTS", 1000)  # chunks of whole rows: the run is not cut at a chunk edge
    expected = torch.ones(40, 300)
    got = expected.clone()
    got[33, 100:164] = 0.0
    mismatch = compare("y", got, expected, BF16)
    assert mismatch is not None and "from (33, 100)" in mismatch.message()


def test_scattered_rounding_mismatches_still_pass():
    expected = torch.ones(200, 512)
    got = expected.clone()
    got.view(-1)[::131] = 1.05  # under 1 %, none adjacent: what rounding looks like
    assert compare("y", got, expected, BF16) is None
    short = torch.ones(400, 8)
    wrong_rows = short.clone()
    wrong_rows[:3] = 2.0  # rows under MIN_RUN_ROW: a block-scaled block may be off as a whole
    assert compare("y", wrong_rows, short, BF16) is None


def test_percentages_keep_two_significant_digits():
    tol = Tolerance(0, 0, 1.0)
    small = Mismatch(Status.INCORRECT_NUMERICAL, "y", tol, mismatched=37, total=16_777_216)
    assert "37 / 16,777,216 elements (0.00022%) mismatched, 100% must match (atol 0, rtol 0)" in small.message()
    assert "(100%)" in Mismatch(Status.INCORRECT_NUMERICAL, "y", tol, mismatched=5, total=5).message()


def test_a_reference_output_that_is_not_a_tensor_or_number_is_a_type_error():
    with pytest.raises(TypeError, match="the reference's output 'y' is None"):
        compare("y", torch.zeros(2), None, BF16)


def test_relative_error_divides_by_the_larger_of_the_reference_and_atol() -> None:
    import torch

    expected = torch.tensor([0.0, 2.0, 1e-6])
    got = torch.tensor([0.005, 2.02, 1e-6])
    stats, mismatch = check_output("y", got, expected, Tolerance(1e-2, 1e-2))
    assert mismatch is None
    assert stats.max_rel_error == pytest.approx(0.5)  # 0.005 / max(0, 0.01): not 0.005 / 1e-8


def test_nan_or_inf_in_the_reference_output_is_the_reference_s_fault() -> None:
    import torch

    from pytest_solbench.worker.check import reference_fault

    clean = torch.zeros(3, 4)
    assert reference_fault("y", clean, Tolerance(1e-2, 1e-2)) is None
    broken = clean.clone()
    broken[1, 2] = float("nan")
    broken[2, 3] = float("-inf")
    assert reference_fault("y", broken, Tolerance(1e-2, 1e-2)).startswith("the reference's output 'y' holds 2 NaN")
    masked = torch.where(torch.arange(4) > 1, float("-inf"), 0.0).expand(3, 4)
    assert reference_fault("y", masked, Tolerance(1e-2, 1e-2, allow_negative_inf=True)) is None
    assert "(1, 2)" in reference_fault("y", broken, Tolerance(1e-2, 1e-2, allow_negative_inf=True))


# ---------------------------------------------------------------- low-precision outputs: upcast before any op


class _OnlyCopiesOfLowPrecision:
    """A dispatch mode that fails any op but a copy, a view or a cast on float8 / packed float4 data: what torch
    implements for those dtypes on every version and device (isfinite, abs, comparisons are not, on torch 2.11 CUDA
    for one). A check that passes under it cannot meet an unimplemented op, whichever torch runs it."""

    ALLOWED = {"aten::_to_copy", "aten::copy_", "aten::clone", "aten::detach", "aten::lift_fresh", "aten::empty_like",
               "aten::_local_scalar_dense"}  # fmt: skip

    def __new__(cls):
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                name = func._schema.name
                view = bool(func._schema.returns) and all(r.alias_info is not None for r in func._schema.returns)
                low = [t for t in _tensors((args, kwargs)) if "float8" in str(t.dtype) or "float4" in str(t.dtype)]
                if low and not view and name not in cls.ALLOWED:
                    raise AssertionError(f"{name} on {low[0].dtype}: not implemented everywhere; upcast first")
                return func(*args, **kwargs)

        return Mode()


def _tensors(tree) -> list:
    import torch
    from torch.utils._pytree import tree_flatten

    return [t for t in tree_flatten(tree)[0] if isinstance(t, torch.Tensor)]


@pytest.mark.parametrize("dtype", ["float8_e4m3fn", "float8_e5m2", "float4_e2m1fn_x2"])
def test_low_precision_outputs_are_checked_with_only_copies_on_their_own_dtype(dtype: str) -> None:
    import torch

    from pytest_solbench.data.inputs import pack_fp4, torch_dtype

    values = torch.randn(64, 32)
    if dtype.startswith("float4"):
        expected, wrong = pack_fp4(values), pack_fp4(values + 3)
        name = "float4_e2m1"
    else:
        expected, wrong = values.to(torch_dtype(dtype)), (values + 3).to(torch_dtype(dtype))
        name = dtype
    tol = tolerance_for(name)
    with _OnlyCopiesOfLowPrecision():
        assert reference_fault("out", expected, tol) is None
        assert check_output("out", expected.clone(), expected, tol, expected_dtype=name)[1] is None
        mismatch = check_output("out", wrong, expected, tol, expected_dtype=name)[1]
        assert mismatch is not None and mismatch.status == "INCORRECT_NUMERICAL"
        assert "got" in mismatch.message().splitlines()[-6]  # the table of a few index | got | expected rows
    if not dtype.startswith("float4"):
        poisoned = torch.full((4,), float("nan")).to(torch_dtype(dtype))
        with _OnlyCopiesOfLowPrecision():
            assert "NaN or Inf" in (reference_fault("out", poisoned, tol) or "")
            assert "NaN or Inf" in check_output("out", poisoned, expected[0, :4], tol, expected_dtype=name)[1].message()


# ---------------------------------------------------------------- the relative L2 error: the output as a whole


def test_the_relative_l2_error_is_reported_and_fails_an_output_that_is_not_the_answer():
    torch.manual_seed(0)  # the error of half the columns zeroed is near sqrt(1/2), on either side of 0.7 by chance
    expected = torch.randn(64, 128) * 1e-3  # every element within a bf16 atol of 1e-2 of zero...
    stats, mismatch = check_output("y", expected * 1.001, expected, tolerance_for("bfloat16"))
    assert mismatch is None and stats.relative_l2_error == pytest.approx(1e-3, rel=1e-3)
    assert stats.to_dict()["relative_l2_error"] == stats.relative_l2_error
    half = expected.clone()
    half[:, ::2] = 0  # ... so half the work skipped passes each element, but not the output as a whole
    stats, mismatch = check_output("y", half, expected, tolerance_for("bfloat16"))
    assert stats.matched_ratio == 1.0 and stats.relative_l2_error == pytest.approx(0.7, abs=0.05)
    assert mismatch is not None and mismatch.status == "INCORRECT_NUMERICAL"
    assert f"relative L2 error ||got - expected|| / ||expected|| is {stats.relative_l2_error:.3g}" in mismatch.message()
    assert "above 0.0312" in mismatch.message()


def test_the_matched_ratios_exceptions_count_in_the_l2_error_so_a_few_far_off_elements_fail():
    """Red-team round 14 (p05, p06, p07): the 1 % the ratio lets through once escaped the L2 error: 0.67 % of an
    RMSNorm's outputs set to 3e38, a cross-entropy gradient without its one-hot term (one element per row), the
    largest 0.9 % of an output zeroed. Each is far from the answer as a whole."""
    torch.manual_seed(0)
    expected = torch.randn(1000)
    got = expected.clone()
    got[3] += 10.0  # one element in 1000, ten sigmas off
    stats, mismatch = check_output("y", got, expected, tolerance_for("float32"))
    assert stats.matched_ratio == 0.999 and stats.relative_l2_error > 0.3 and mismatch is not None
    got = expected.clone()
    got[::150] = 3e38  # 0.67 %: p06
    assert check_output("y", got, expected, tolerance_for("float32"))[1] is not None
    logits = torch.randn(64, 1000)
    labels = torch.randint(0, 1000, (64,))
    grad = torch.softmax(logits, -1) - torch.nn.functional.one_hot(labels, 1000)
    lazy = torch.softmax(logits, -1)  # p07: the labels never read, one element per row wrong
    stats, mismatch = check_output("g", lazy, grad, tolerance_for("float32"))
    assert stats.matched_ratio > 0.99 and mismatch is not None and stats.relative_l2_error > 0.9
    big = expected.abs().argsort()[-9:]  # the largest 0.9 % zeroed
    got = expected.clone()
    got[big] = 0
    assert check_output("y", got, expected, tolerance_for("float32"))[1] is not None


def test_a_flipped_cut_an_honest_discontinuity_stays_within_the_l2_error():
    """A top-p cut moved by input noise: one small probability near the cut kept by one and dropped by the other
    in some rows, the rest renormalised alike. The ratio takes the flipped elements and the L2 error barely moves."""
    torch.manual_seed(0)
    probs = torch.softmax(torch.randn(64, 1000) * 3, -1)
    got = probs.clone()
    rows = torch.arange(0, 64, 4)
    near_cut = probs[rows].argsort(-1)[:, -40]  # the 40th largest: about where a p=0.9 cut falls
    got[rows, near_cut] = 0
    stats, mismatch = check_output("p", got, probs, tolerance_for("float32", {"max_atol": 1e-6, "max_rtol": 1e-3}))
    assert mismatch is None and 0 < stats.relative_l2_error < 0.0625 and stats.matched_ratio < 1


def test_the_relative_l2_error_skips_a_zero_reference_and_exact_outputs_and_says_so():
    zeros = torch.zeros(8, 32)
    stats, mismatch = check_output("y", zeros + 1e-3, zeros, tolerance_for("float32", {"max_atol": 1e-2}))
    assert mismatch is None and stats.relative_l2_error is None
    assert "zero or subnormal" in stats.to_dict()["relative_l2_error_skipped"]
    ints = torch.arange(8)
    stats, _ = check_output("i", ints, ints, tolerance_for("int64"), "int64")
    assert stats.relative_l2_error is None and "relative_l2_error_skipped" not in stats.to_dict()


def test_a_workloads_own_bound_overrides_the_dtypes():
    expected = torch.randn(64, 128) * 1e-3
    got = expected * 1.2  # 20 % off everywhere: within atol, above the bf16 bound
    assert check_output("y", got, expected, tolerance_for("bfloat16"))[1] is not None
    assert check_output("y", got, expected, tolerance_for("bfloat16", {"max_relative_l2_error": 0.25}))[1] is None


C11 = Path(__file__).resolve().parents[1] / "problems" / "llama3_1_70b_fp8_kv_paged_decode_h8_kv1_d128_ps16"


@pytest.fixture(scope="module")
def decode_at_32k():
    """The smallest workload where red-team round 3's no-work decode kernel (c11) passed: batch 1, 32768 cached
    tokens, whose true output has an RMS of about 0.009 (an average over the keys) under the atol the reduction
    length of 2 x 32768 widened to 0.04."""
    from pytest_solbench.data.trace import load_problem
    from pytest_solbench.sol.facts import Facts
    from pytest_solbench.worker import execute
    from pytest_solbench.worker.rounds import as_outputs, make_problem_inputs

    problem = load_problem(C11 / "definition.json")
    workload = next(w for w in problem.workloads if w.axes["batch_size"] == 1 and w.axes["num_kv_tokens"] == 32768)
    facts = Facts().of(problem, workload)
    args = make_problem_inputs(problem, workload, facts.axis_values, 1234, "cpu")
    (expected,) = as_outputs(execute._reference(problem.definition)(*args), problem.definition)
    return problem, facts, args, expected


def _decode_attention(args, keep: float = 1.0):
    """The same decode attention in float64, on the first ``keep`` share of each sequence's keys."""
    q, k_cache, v_cache, k_scale, v_scale, block_table, seq_lens, sm_scale = args
    out = torch.empty(q.shape, dtype=torch.float64)
    for b in range(q.shape[0]):
        n = int(seq_lens[b])
        pages = block_table[b, : (n + 15) // 16].long()
        k = (k_cache[pages].double() * float(k_scale)).reshape(-1, 128)[: int(n * keep)]  # one KV head
        v = (v_cache[pages].double() * float(v_scale)).reshape(-1, 128)[: int(n * keep)]
        out[b] = torch.softmax(q[b].double() @ k.T * sm_scale, dim=-1) @ v
    return out.to(torch.bfloat16)


def test_no_work_decode_at_32k_fails_however_far_atol_is_widened(decode_at_32k):
    """Red-team round 3, c11: zeros with one element set passed every element under the widened atol."""
    problem, _facts, args, expected = decode_at_32k
    widened = tolerance_for("bfloat16", None, reduction_len=2 * 32768)  # what sol.facts gave attention before
    assert widened.max_atol == pytest.approx(0.04)
    cheat = torch.zeros_like(expected)
    cheat[0, 0, 0] = 1e-3
    assert float((cheat.float() - expected.float()).abs().max()) < widened.max_atol  # every element "matches"
    stats, mismatch = check_output("output", cheat, expected, widened, "bfloat16")
    assert stats.matched_ratio == 1.0 and mismatch is not None
    assert stats.relative_l2_error == pytest.approx(1.0, abs=0.01)
    assert "relative L2 error" in mismatch.message()
    skipped = _decode_attention(args, keep=0.6)  # 40 % of the keys never read
    assert check_output("output", skipped, expected, widened, "bfloat16")[1] is not None
    honest = _decode_attention(args)  # every key, in float64: the answer, rounded once to bf16
    stats, mismatch = check_output("output", honest, expected, widened, "bfloat16")
    assert mismatch is None and stats.relative_l2_error < 0.01


def test_no_work_decode_kernel_fails_through_the_plugin_with_the_relative_l2_error(pytester: pytest.Pytester):
    """c11 end to end, at the smallest workload where it passed: the item fails INCORRECT_NUMERICAL, and the
    message names the relative L2 error in the user's words."""
    kernels = pytester.path / "kernels"
    kernels.mkdir()
    (kernels / "decode_does_nothing.py").write_text(
        f'DEFINITION = "{C11.name}"\n\n\n'
        "def run(q, k_cache, v_cache, k_scale, v_scale, block_table, seq_lens, sm_scale, output):\n"
        "    output.zero_()\n"
        "    output[0, 0, 0] = 1e-3  # one element written: not all zeros\n"
    )  # fmt: skip
    result = pytester.runpytest_subprocess(
        str(C11 / "definition.json"), "--solbench", "--solbench-device", "cpu", "--kernel-dir", str(kernels),
        "--solbench-cpu-max-elements", "5000000", "--solbench-rounds", "1", "-p", "no:randomly",
        "-p", "no:cacheprovider", "-k", "batch_size:1 and num_kv_tokens:32768", timeout=1800,
    )  # fmt: skip
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*INCORRECT_NUMERICAL*", "*relative L2 error ||got - expected|| / ||expected|| is *"])
    # About 1 (an output of zeros is 1 exactly); the one element written moves it with the seed's values (0.999 seen).
    found = re.search(r"relative L2 error \|\|got - expected\|\| / \|\|expected\|\| is ([0-9.e+-]+)", result.stdout.str())
    assert found and 0.99 <= float(found.group(1)) <= 1.01, found


def test_a_bf16_attention_run_in_fp8_throughout_fails_the_relative_l2_bound_and_p_in_fp8_alone_passes():
    """Red-team round 68, er01: attention over hundreds of keys has outputs under atol, so only the relative L2 bound
    holds it. q, k, v and P rounded to e4m3 (a scale per tensor) land near 0.05, P alone (FlashAttention-3) near
    0.02: the 16-bit bound, 2^-5, lies between."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(4, 577, 64) for _ in range(3))

    def e4m3(x):
        scale = x.abs().amax() / 448
        return (x / scale).to(torch.float8_e4m3fn).float() * scale

    def attention(q, k, v, p_rounding=lambda p: p):
        p = torch.softmax(q @ k.transpose(-1, -2) / 8, dim=-1)
        return p_rounding(p) @ v

    expected = attention(q, k, v)
    bound = tolerance_for("bfloat16").max_relative_l2_error
    fp8 = check_output("o", attention(e4m3(q), e4m3(k), e4m3(v), e4m3).bfloat16(), expected.bfloat16(),
                       tolerance_for("bfloat16"))  # fmt: skip
    p_only = check_output("o", attention(q, k, v, e4m3).bfloat16(), expected.bfloat16(), tolerance_for("bfloat16"))
    assert fp8[0].relative_l2_error > bound and fp8[1] is not None, fp8[0]
    assert p_only[0].relative_l2_error < bound and p_only[1] is None, p_only[0]

"""T_SOL from work and a hardware row, clock scaling, the `sol` formula extension, and the scores."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

from pytest_solbench.sol import bound as sol
from pytest_solbench.data import trace
from pytest_solbench.sol.hardware import HARDWARE
from pytest_solbench.sol.bound import Work, sol_bound
from pytest_solbench.data.trace import TraceError

H100, A100, L4 = HARDWARE["h100_sxm"], HARDWARE["a100_sxm"], HARDWARE["l4"]

GEMM = "def run(A, B):\n    return A @ B.T\n"


def gemm_definition(sol_=None, reference=GEMM):
    data = {
        "name": "gemm", "axes": {"M": {"type": "var"}, "N": {"type": "const", "value": 64},
                                 "K": {"type": "const", "value": 32}},
        "inputs": {"A": {"shape": ["M", "K"], "dtype": "bfloat16"}, "B": {"shape": ["N", "K"], "dtype": "bfloat16"}},
        "outputs": {"C": {"shape": ["M", "N"], "dtype": "bfloat16"}}, "reference": textwrap.dedent(reference),
    }  # fmt: skip
    if sol_ is not None:
        data["sol"] = sol_
    return trace.parse_definition(data, Path("x.json"))


# ---------------------------------------------------------------- bytes


def test_bytes_of_counts_logical_elements_at_their_width():
    assert sol.bytes_of((3, 5), "bfloat16") == 30
    assert sol.bytes_of((4, 8), "float4_e2m1") == 16  # half a byte per fp4 value
    assert sol.bytes_of((4, 8), "float8_e4m3fn") == 32
    assert sol.bytes_of((), "float32") == 4  # a 0-d tensor is one element


def test_io_bytes_reads_every_input_writes_every_output_and_scalars_are_free():
    data = {"name": "scale", "axes": {"N": {"type": "var"}},
            "inputs": {"x": {"shape": ["N"], "dtype": "float32"}, "s": {"shape": [], "dtype": "float32"},
                       "eps": {"shape": None, "dtype": "float32"}},
            "outputs": {"y": {"shape": ["N"], "dtype": "bfloat16"}},
            "reference": "def run(x, s, eps):\n    return (x * s + eps).bfloat16()\n"}  # fmt: skip
    d = trace.parse_definition(data, Path("x.json"))
    assert sol.io_bytes(d, {"N": 10}) == 4 * 10 + 4 + 2 * 10


# ---------------------------------------------------------------- the bound


def test_a_large_gemm_is_compute_bound_at_the_tensor_peak():
    n = 8192
    work = Work({"bfloat16": 2.0 * n**3}, 3 * n * n * 2, "test")
    bound = sol_bound(work, H100)
    assert bound.compute_ms == pytest.approx(2 * n**3 / 989.4e12 * 1e3)
    assert bound.memory_ms == pytest.approx(3 * n * n * 2 / 3350e9 * 1e3)
    assert bound.bound == "compute" and bound.t_sol_ms == bound.compute_ms
    assert bound.arithmetic_intensity == pytest.approx(2 * n**3 / (6 * n * n))
    assert bound.hardware_key == "h100_sxm" and bound.sm_clock_mhz is None and bound.mem_clock_mhz is None


def test_an_elementwise_op_is_memory_bound():
    bound = sol_bound(Work({}, 1e9, "test"), H100)
    assert bound.compute_ms == 0 and bound.bound == "memory"
    assert bound.t_sol_ms == pytest.approx(1e9 / 3350e9 * 1e3)
    assert bound.arithmetic_intensity == 0


def test_compute_terms_of_several_dtypes_add_up():
    work = Work({"bfloat16": 1e12, "float8_e4m3fn": 1e12}, 0.0, "test")
    assert sol_bound(work, H100).compute_ms == pytest.approx((1 / 989.4 + 1 / 1978.9) * 1e3)
    assert math.isinf(sol_bound(work, H100).arithmetic_intensity)


def test_a_chip_without_the_unit_bounds_with_the_next_slower_one():
    work = Work({"float8_e4m3fn": 312e12}, 0.0, "test")
    assert sol_bound(work, A100).compute_ms == pytest.approx(1e3)  # fp8 work on A100 runs at the fp16 rate
    assert sol_bound(Work({"float32": 60e12}, 0.0, "t"), L4).compute_ms == pytest.approx(1e3)  # fp32 -> tf32


def test_sm_clock_scales_each_peak_from_the_clock_it_assumes():
    work = Work({"bfloat16": 989.4e12}, 0.0, "test")
    assert sol_bound(work, H100).compute_ms == pytest.approx(1e3)
    assert sol_bound(work, H100, sm_clock_mhz=915).compute_ms == pytest.approx(2e3)  # bf16 peak quoted at 1830
    assert sol_bound(work, H100, sm_clock_mhz=1980).compute_ms == pytest.approx(1e3 * 1830 / 1980)
    fp64 = Work({"float64": 66.9e12}, 0.0, "test")
    assert sol_bound(fp64, H100, sm_clock_mhz=990).compute_ms == pytest.approx(2e3)  # fp64 quoted at 1980
    bound = sol_bound(work, H100, sm_clock_mhz=915)
    assert bound.sm_clock_mhz == 915


def test_memory_clock_scales_bandwidth_only_where_the_row_knows_its_memory_clock():
    work = Work({}, 3350e9, "test")
    slow = sol_bound(work, H100, mem_clock_mhz=2619 / 2)
    assert slow.memory_ms == pytest.approx(2e3) and slow.mem_clock_mhz == 2619 / 2
    l4 = sol_bound(Work({}, 300e9, "test"), L4, mem_clock_mhz=1000)
    assert l4.memory_ms == pytest.approx(1e3) and l4.mem_clock_mhz is None  # unknown row clock: not scaled


# ---------------------------------------------------------------- work and the `sol` extension


def test_a_sol_formula_wins_over_counting():
    d = gemm_definition({"flops": {"float8_e4m3fn": "2*M*N*K"}, "bytes": "M*K + N*K + 2*M*N + 4*cdiv(M, 128)"})
    work = sol.work_for(d, d.axis_values({"M": 200}))
    assert work.flops_by_dtype == {"float8_e4m3fn": 2 * 200 * 64 * 32}
    assert work.bytes_moved == 200 * 32 + 64 * 32 + 2 * 200 * 64 + 4 * 2
    assert work.source == "flops-formula+bytes-formula"


def test_either_half_of_the_formula_may_be_given_alone():
    d = gemm_definition({"bytes": 1000})
    work = sol.work_for(d, d.axis_values({"M": 8}))
    assert work.flops_by_dtype == {"bfloat16": 2 * 8 * 64 * 32} and work.bytes_moved == 1000
    assert work.source == "flops-meta+bytes-formula"
    d = gemm_definition({"flops": {}})  # explicitly no tensor-core work: the reference is not run
    work = sol.work_for(d, d.axis_values({"M": 8}))
    assert work.flops_by_dtype == {} and work.bytes_moved == 2 * (8 * 32 + 64 * 32 + 8 * 64)


@pytest.mark.parametrize(
    "formula, where, words",
    [
        ({"flops": {"int32": "M"}}, "sol.flops.int32", "not a float dtype"),
        ({"flops": {"bfloat16": "2*M*Q"}}, "sol.flops.bfloat16", "'Q', which is not an axis"),
        ({"flops": "2*M*N*K"}, "sol.flops", "must map operand dtypes"),
        ({"bytes": "M - 1000"}, "sol.bytes", "not a non-negative number"),
        ({"bytes": "M *"}, "sol.bytes", "cannot evaluate"),
        ({"bytes": [1]}, "sol.bytes", "must be a number or an expression"),
        ({"flop": {}}, "sol.flop", "unknown field"),
    ],
)
def test_a_bad_formula_names_its_field(formula, where, words):
    d = gemm_definition(formula)
    with pytest.raises(sol.SolError) as info:
        sol.work_for(d, d.axis_values({"M": 4}))
    assert isinstance(info.value, TraceError) and info.value.where == where and words in info.value.message
    assert str(info.value).startswith("x.json: ")
    if "negative" not in words:  # found without axis values, at collection time
        with pytest.raises(sol.SolError) as early:
            sol.validate_formula(d)
        assert early.value.where == where


def test_validate_formula_accepts_good_formulas_and_none():
    sol.validate_formula(gemm_definition())
    sol.validate_formula(gemm_definition({"flops": {"bfloat16": "2*M*N*K", "float8_e4m3fn": 12}, "bytes": "cdiv(M, 2)",
                                          "note": "free text"}))  # fmt: skip


def test_a_reference_that_runs_nowhere_asks_for_a_formula():
    d = gemm_definition(reference="def run(A, B):\n    if A.sum() > 0:\n        return A @ B.T\n    return B\n")
    with pytest.raises(sol.SolError, match="does not run on meta tensors.*add a 'sol' formula"):
        sol.work_for(d, d.axis_values({"M": 4}))

    def broken():
        raise RuntimeError("no inputs today")

    with pytest.raises(sol.SolError, match="fails on meta tensors .* and on real arguments .*no inputs today"):
        sol.work_for(d, d.axis_values({"M": 4}), count_args=broken)


def test_a_reference_that_cannot_load_is_reported_against_the_reference_field():
    d = gemm_definition(reference="import not_a_module_anywhere\ndef run(A, B):\n    return A\n")
    with pytest.raises(sol.SolError) as info:
        sol.work_for(d, d.axis_values({"M": 4}))
    assert info.value.where == "reference" and "not_a_module_anywhere" in info.value.message


def test_scalar_inputs_come_from_the_workload():
    data = {"name": "rep", "axes": {"M": {"type": "var"}},
            "inputs": {"A": {"shape": ["M", "M"], "dtype": "float16"}, "times": {"shape": None, "dtype": "int32"}},
            "outputs": {"C": {"shape": ["M", "M"], "dtype": "float16"}},
            "reference": "def run(A, times):\n    for _ in range(times):\n        A = A @ A\n    return A\n",
            }  # fmt: skip
    d = trace.parse_definition(data, Path("x.json"))
    assert sol.work_for(d, {"M": 4}).flops_by_dtype == {"float16": 2 * 4**3}  # default scalar: 1
    assert sol.work_for(d, {"M": 4}, scalars={"times": 3}).flops_by_dtype == {"float16": 3 * 2 * 4**3}

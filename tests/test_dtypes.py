"""The precision mark of a problem: its least precise float input, with e2m1 + e8m0 scales told apart as MXFP4."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_solbench.data.dtypes import MIN_CAPABILITY, PRECISION_MARKS, precision_of
from pytest_solbench.data.trace import parse_definition


def definition(inputs: dict[str, str]):
    data = {
        "name": "toy",
        "op_type": "toy",
        "axes": {"n": {"type": "const", "value": 64}},
        "inputs": {name: {"shape": ["n"], "dtype": dtype} for name, dtype in inputs.items()},
        "outputs": {"c": {"shape": ["n"], "dtype": "bfloat16"}},
        "reference": f"def run({', '.join(inputs)}):\n    return 0\n",
    }
    return parse_definition(data, Path("toy/definition.json"))


@pytest.mark.parametrize(
    ("inputs", "mark"),
    [
        ({"a": "bfloat16", "b": "float8_e4m3fn", "s": "float32"}, "fp8"),
        ({"a": "float4_e2m1", "s": "float8_e4m3fn"}, "nvfp4"),
        ({"a": "bfloat16", "b": "float4_e2m1", "s": "float8_e8m0fnu"}, "mxfp4"),
        ({"a": "float4_e2m1", "sa": "float8_e8m0fnu", "b": "float4_e2m1", "sb": "float8_e8m0fnu"}, "mxfp4"),
        ({"x": "bfloat16", "e": "float8_e8m0fnu"}, "bf16"),  # e8m0 alone does not make MXFP4
        ({"i": "int32"}, "bf16"),  # no float input: the output decides
    ],
)
def test_precision_is_the_least_precise_float_input(inputs: dict[str, str], mark: str) -> None:
    assert precision_of(definition(inputs)) == mark
    assert mark in PRECISION_MARKS


def test_only_nvfp4_and_fp8_need_a_newer_gpu() -> None:
    """A weight-only MXFP4 kernel dequantizes to bf16, so MXFP4 problems are not skipped on Hopper."""
    assert set(MIN_CAPABILITY) == {"fp8", "nvfp4"}

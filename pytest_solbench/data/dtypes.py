"""The dtype table: names as FlashInfer Trace spells them, their widths, marks and torch types."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DType:
    """One element type of the trace schema."""

    name: str  # as written in definition files
    torch_name: str  # attribute of the torch module
    bits_per_element: float  # storage bits per logical element (fp4 packed: 4)
    mark: str  # pytest mark for precision selection ("" for integers and bool)
    is_float: bool
    precision_rank: int  # lower is less precise: decides the problem's precision mark


_ROWS = [
    DType("float64", "float64", 64, "fp64", True, 6),
    DType("float32", "float32", 32, "fp32", True, 5),
    DType("float16", "float16", 16, "fp16", True, 4),
    DType("bfloat16", "bfloat16", 16, "bf16", True, 3),
    DType("float8_e4m3fn", "float8_e4m3fn", 8, "fp8", True, 2),
    DType("float8_e5m2", "float8_e5m2", 8, "fp8", True, 2),
    # One tensor element of float4_e2m1fn_x2 holds two fp4 values; shapes in definitions count logical
    # fp4 values, so a [M, K] fp4 input is a torch tensor of [M, K // 2] elements of 8 bits.
    DType("float4_e2m1", "float4_e2m1fn_x2", 4, "nvfp4", True, 1),
    DType("float4_e2m1fn_x2", "float4_e2m1fn_x2", 4, "nvfp4", True, 1),
    DType("float8_e8m0fnu", "float8_e8m0fnu", 8, "", False, 99),
    DType("int64", "int64", 64, "", False, 99),
    DType("int32", "int32", 32, "", False, 99),
    DType("int16", "int16", 16, "", False, 99),
    DType("int8", "int8", 8, "", False, 99),
    DType("uint8", "uint8", 8, "", False, 99),
    DType("bool", "bool", 8, "", False, 99),
]

DTYPES: dict[str, DType] = {row.name: row for row in _ROWS}

#: The precision marks every session registers, so ``--strict-markers`` accepts ``-m fp8`` even before collection.
PRECISION_MARKS: dict[str, str] = {
    "fp64": "problems computed in float64",
    "fp32": "problems computed in float32",
    "fp16": "problems computed in float16",
    "bf16": "problems computed in bfloat16",
    "fp8": "problems with float8 (e4m3 or e5m2) inputs; need sm_89+",
    "nvfp4": "problems with NVFP4 (e2m1, block-scaled) inputs; need Blackwell, sm_100+",
    "mxfp4": "problems with MXFP4 (e2m1 with e8m0 scales per 32) inputs; weight-only ones run on any GPU",
}

#: The compute capability a precision needs on CUDA, as (major, minor).
MIN_CAPABILITY: dict[str, tuple[int, int]] = {"fp8": (8, 9), "nvfp4": (10, 0)}


def is_fp4(name: str) -> bool:
    """Whether the dtype packs two fp4 values per byte."""
    return DTYPES[name].mark == "nvfp4"


def to_torch(name: str):  # -> torch.dtype
    """The torch dtype for a schema dtype name (imports torch)."""
    import torch

    return getattr(torch, DTYPES[name].torch_name)


def precision_of(definition) -> str:  # (trace.Definition) -> str
    """A problem's precision mark: the least precise float dtype among its inputs (then outputs); fp32 without.

    fp4 values with e8m0 (power-of-two) scales are MXFP4, the OCP format gpt-oss ships, not NVFP4: no sm_100
    requirement, since a weight-only MXFP4 kernel dequantizes to bf16 on any GPU.
    """
    for specs in (definition.inputs, definition.outputs):
        floats = [DTYPES[s.dtype] for s in specs if DTYPES[s.dtype].is_float]
        if floats:
            mark = min(floats, key=lambda d: d.precision_rank).mark
            if mark == "nvfp4" and any(s.dtype == "float8_e8m0fnu" for s in specs):
                return "mxfp4"
            return mark
    return "fp32"

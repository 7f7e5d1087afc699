"""Honest (red-team round 18, v09's look-alike): type strings handed to `typing` as data, as a typed codebase writes
them: a NamedTuple and a TypedDict in their functional forms with plain string types (a TypedDict key that is no
identifier), a TypeVar bound by a string, `typing.cast` to a quoted type, `Optional["Tensor"]` as a value, a
dataclass with string annotations, and `functools.singledispatch` over a plain quoted type. Each string is read as
an annotation (more than a type would be runtime-load); these are types."""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import NamedTuple, Optional, TypedDict

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"

Shape = NamedTuple("Shape", [("rows", "int"), ("hidden", "int")])
Tuning = TypedDict("Tuning", {"num-warps": "int", "eps": "float"}, total=False)
T = typing.TypeVar("T", bound="torch.Tensor")
MaybeTensor = Optional["torch.Tensor"]
Rows = list["int"]


@dataclasses.dataclass(frozen=True)
class Config:
    eps: "float" = 1e-5
    out: "typing.Optional[torch.Tensor]" = None


@functools.singledispatch
def _as_float(x):
    return float(x)


@_as_float.register
def _(x: "int"):
    return float(x)


_CONFIG = Config(eps=_as_float(1e-5))


def run(hidden_states, weight):
    shape = Shape(*hidden_states.shape)
    x = typing.cast("torch.Tensor", hidden_states).float()
    r = torch.rsqrt(x.pow(2).sum(-1, keepdim=True) / shape.hidden + _CONFIG.eps)
    return (x * r * weight.float()).to(hidden_states.dtype)

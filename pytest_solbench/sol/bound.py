"""Speed-of-light bounds: the work a definition must do, T_SOL on a GPU at a clock, and the physical floor.

Scores live in ``scoring``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from pytest_solbench.data.dtypes import DTYPES, is_fp4
from pytest_solbench.sol.hardware import Hardware, peak_key_for_dtype
from pytest_solbench.data.trace import Definition, TraceError, eval_expression, expression_names


class SolError(TraceError):
    """A definition whose speed of light cannot be worked out (names the file and the ``sol`` field)."""


class NeedsRealInputs(SolError):
    """The reference does not run on meta tensors: its FLOPs can only be counted on real inputs."""


@dataclass(frozen=True)
class Work:
    """What one workload must do: tensor-core FLOPs per operand dtype and bytes to and from DRAM."""

    flops_by_dtype: dict[str, float]
    bytes_moved: float
    source: str  # "flops-<formula|meta|real>+bytes-<formula|io|touched>"
    output_bytes: float = 0.0  # of bytes_moved, what the outputs write (the part that may retire in L2)

    @property
    def flops(self) -> float:
        return sum(self.flops_by_dtype.values())


@dataclass(frozen=True)
class Bound:
    """T_SOL of one workload on one GPU, with its two terms and the clocks they assume."""

    t_sol_ms: float
    compute_ms: float
    memory_ms: float
    bound: str  # "memory" | "compute"
    flops_by_dtype: dict[str, float]
    bytes_moved: float
    hardware_key: str
    sm_clock_mhz: float | None  # None: each peak at the clock its datasheet assumes
    mem_clock_mhz: float | None  # None: the datasheet bandwidth
    arithmetic_intensity: float  # FLOP per byte


# ---------------------------------------------------------------- bytes


def bytes_of(shape: tuple[int, ...], dtype_name: str) -> float:
    """Bytes of a tensor of ``shape`` logical elements (fp4: half a byte each)."""
    return math.prod(shape) * DTYPES[dtype_name].bits_per_element / 8


def io_bytes(definition: Definition, axis_values: dict[str, int], outputs_only: bool = False) -> float:
    """Every tensor input read once and every output written once; Python scalars are free, 0-d tensors not."""
    specs = definition.outputs if outputs_only else (*definition.inputs, *definition.outputs)
    return sum(bytes_of(definition.shape_of(spec, axis_values), spec.dtype) for spec in specs if spec.shape is not None)


def reads_follow_data(definition: Definition) -> bool:
    """Whether the bytes a reference reads may depend on input values: it takes an integer or boolean tensor (expert
    offsets, a block table, token ids, a mask) and no ``sol.bytes`` formula says what it reads. Then the bytes of
    ``io_bytes`` are provisional until ``touched.touched_bytes`` has seen real inputs."""
    if "bytes" in (definition.sol or {}):
        return False
    return any(spec.shape is not None and not DTYPES[spec.dtype].is_float for spec in definition.inputs)


def touched_io_bytes(definition: Definition, axis_values: dict[str, int], touched: dict[str, float]) -> float:
    """The input bytes real inputs reached (``touched``, by input name; an input not named: read whole) plus every
    output written once."""
    total = io_bytes(definition, axis_values, outputs_only=True)
    for spec in definition.inputs:
        if spec.shape is not None:
            total += touched.get(spec.name, bytes_of(definition.shape_of(spec, axis_values), spec.dtype))
    return total


# ---------------------------------------------------------------- work


def _evaluate(definition: Definition, where: str, value: Any, axis_values: dict[str, int]) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        result = value
    elif isinstance(value, str):
        try:
            result = eval_expression(value, axis_values)
        except KeyError as exc:
            raise SolError(definition.path, where, f"{value!r} names {exc.args[0]!r}, which is not an axis") from None
        except (SyntaxError, ValueError, TypeError, ZeroDivisionError) as exc:
            raise SolError(definition.path, where, f"cannot evaluate {value!r}: {exc}") from None
    else:
        raise SolError(definition.path, where, f"must be a number or an expression over axes, got {value!r}")
    if not isinstance(result, (int, float)) or result < 0 or math.isnan(result):
        raise SolError(definition.path, where, f"{value!r} gives {result!r}, not a non-negative number")
    return float(result)


def _formula_flops(definition: Definition, raw: dict, axis_values: dict[str, int]) -> dict[str, float]:
    flops = {dtype: _evaluate(definition, f"sol.flops.{dtype}", value, axis_values) for dtype, value in raw.items()}
    return {k: v for k, v in flops.items() if v}


def validate_formula(definition: Definition) -> None:
    """Check a definition's ``sol`` field without axis values (fit for collection time); raises SolError."""
    sol = definition.sol or {}
    unknown = set(sol) - {"flops", "bytes", "written_bytes", "note"}
    if unknown:
        raise SolError(definition.path, f"sol.{sorted(unknown)[0]}",
                       "unknown field (known: flops, bytes, written_bytes, note)")  # fmt: skip
    fields = [(f"sol.{key}", sol[key]) for key in ("bytes", "written_bytes") if key in sol]
    if "flops" in sol:
        if not isinstance(sol["flops"], dict):
            message = 'must map operand dtypes to expressions: {"bfloat16": "2*M*N*K"}'
            raise SolError(definition.path, "sol.flops", message)
        for dtype, value in sol["flops"].items():
            if dtype not in DTYPES or not DTYPES[dtype].is_float:
                known = ", ".join(n for n, d in DTYPES.items() if d.is_float)
                raise SolError(definition.path, f"sol.flops.{dtype}", f"not a float dtype (known: {known})")
            fields.append((f"sol.flops.{dtype}", value))
    for where, value in fields:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise SolError(definition.path, where, f"must be a number or an expression over axes, got {value!r}")
        if isinstance(value, str):
            try:
                names = expression_names(value)
            except SyntaxError as exc:
                raise SolError(definition.path, where, f"cannot evaluate {value!r}: {exc.msg}") from None
            stray = sorted(names - set(definition.axes))
            if stray:
                raise SolError(definition.path, where, f"{value!r} names {stray[0]!r}, which is not an axis")


def meta_args(definition: Definition, axis_values: dict[str, int], scalars: dict[str, Any] | None = None) -> list:
    """The reference's arguments as meta tensors (fp4: float4_e2m1fn_x2, last dimension halved)."""
    import torch

    from pytest_solbench.data.dtypes import to_torch

    args: list = []
    for spec in definition.inputs:
        if spec.shape is None:
            default = 1.0 if DTYPES[spec.dtype].is_float else (True if spec.dtype == "bool" else 1)
            args.append((scalars or {}).get(spec.name, default))
            continue
        shape = list(definition.shape_of(spec, axis_values))
        if is_fp4(spec.dtype) and shape:
            shape[-1] //= 2
        args.append(torch.empty(shape, dtype=to_torch(spec.dtype), device="meta"))
    return args


def _reference_run(definition: Definition) -> Callable:
    from pytest_solbench.data.kernels import reference_namespace

    try:
        return definition.positional_reference(reference_namespace(definition)["run"])
    except Exception as exc:
        raise SolError(definition.path, "reference", f"cannot be loaded to count FLOPs: {type(exc).__name__}: {exc}")


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:160] if text else ''}".rstrip(": ")


def work_for(
    definition: Definition,
    axis_values: dict[str, int],
    count_args: Callable[[], list] | None = None,
    scalars: dict[str, Any] | None = None,
    flops: dict[str, float] | None = None,
    touched: dict[str, float] | None = None,
) -> Work:
    """The FLOPs and bytes of one workload (``axis_values``: every axis, as ``definition.axis_values`` gives).

    A ``sol`` formula in the definition wins. Otherwise bytes are the inputs and outputs, and FLOPs are counted
    by running the reference on meta tensors; if it cannot run there (``.item()``, data-dependent indexing),
    on the real arguments ``count_args()`` returns. Neither: ``SolError`` asking for a ``sol`` formula.
    ``flops``: FLOPs already counted on real inputs (by a worker), used as they are. ``touched``: the bytes of each
    input that real inputs reached (``touched.touched_bytes``, by input name), which replace the whole inputs when
    no ``sol.bytes`` formula is given.
    """
    from pytest_solbench.sol.flops import count_flops

    validate_formula(definition)
    sol = definition.sol or {}
    if "bytes" in sol:
        bytes_moved, bytes_source = _evaluate(definition, "sol.bytes", sol["bytes"], axis_values), "formula"
    elif touched is not None:
        bytes_moved, bytes_source = touched_io_bytes(definition, axis_values, touched), "touched"
    else:
        bytes_moved, bytes_source = io_bytes(definition, axis_values), "io"
    if "written_bytes" in sol:  # writes into inputs updated in place (a cache append) retire in L2 as outputs do
        written = _evaluate(definition, "sol.written_bytes", sol["written_bytes"], axis_values)
    else:
        written = io_bytes(definition, axis_values, outputs_only=True)
    output_bytes = min(written, bytes_moved)
    if "flops" in sol:
        counted = _formula_flops(definition, sol["flops"], axis_values)
        return Work(counted, bytes_moved, f"flops-formula+bytes-{bytes_source}", output_bytes)
    if flops is not None:
        return Work(dict(flops), bytes_moved, f"flops-real+bytes-{bytes_source}", output_bytes)
    run = _reference_run(definition)
    try:
        sdpa = "scaled_dot_product_attention" in definition.reference
        counted = count_flops(run, meta_args(definition, axis_values, scalars), attention_calls=sdpa)
        flops_source = "meta"
    except Exception as meta_exc:
        if count_args is None:
            raise NeedsRealInputs(
                definition.path, "sol",
                f"cannot count FLOPs: the reference does not run on meta tensors ({_why(meta_exc)}); "
                "add a 'sol' formula, e.g. {\"flops\": {\"bfloat16\": \"2*M*N*K\"}} (docs/sol.md)",
            ) from None  # fmt: skip
        try:
            counted = count_flops(run, count_args())
            flops_source = "real"
        except Exception as real_exc:
            raise SolError(
                definition.path, "sol",
                f"cannot count FLOPs: the reference fails on meta tensors ({_why(meta_exc)}) and on real "
                f"arguments ({_why(real_exc)}); add a 'sol' formula (docs/sol.md)",
            ) from None  # fmt: skip
    return Work(counted, bytes_moved, f"flops-{flops_source}+bytes-{bytes_source}", output_bytes)


# ---------------------------------------------------------------- the bound


def sol_bound(
    work: Work, hw: Hardware, sm_clock_mhz: float | None = None, mem_clock_mhz: float | None = None
) -> Bound:
    """T_SOL = max(sum over dtypes of FLOPs / peak, bytes / DRAM bandwidth), at the given clocks.

    Each peak scales by ``sm_clock_mhz`` over the clock its datasheet figure assumes; the bandwidth scales by
    ``mem_clock_mhz`` over the row's memory clock when both are known. None: datasheet figures as they are.
    """
    compute_s = 0.0
    for dtype, flops in work.flops_by_dtype.items():
        key = peak_key_for_dtype(dtype, hw)
        scale = sm_clock_mhz / hw.clock_for(key) if sm_clock_mhz else 1.0
        compute_s += flops / (hw.peak_tflops[key] * 1e12 * scale)
    mem_scale = mem_clock_mhz / hw.memory_clock_mhz if mem_clock_mhz and hw.memory_clock_mhz else 1.0
    memory_s = work.bytes_moved / (hw.dram_bandwidth_gb_s * 1e9 * mem_scale)
    total = work.flops
    intensity = total / work.bytes_moved if work.bytes_moved else (math.inf if total else 0.0)
    return Bound(
        t_sol_ms=max(compute_s, memory_s) * 1e3,
        compute_ms=compute_s * 1e3,
        memory_ms=memory_s * 1e3,
        bound="compute" if compute_s > memory_s else "memory",
        flops_by_dtype=dict(work.flops_by_dtype),
        bytes_moved=work.bytes_moved,
        hardware_key=hw.key,
        sm_clock_mhz=sm_clock_mhz,
        mem_clock_mhz=mem_clock_mhz if hw.memory_clock_mhz else None,
        arithmetic_intensity=intensity,
    )


def physical_floor_ms(work: Work, hw: Hardware, sm_clock_mhz: float | None = None) -> float:
    """The time below which no honest measurement can fall (DESIGN §7's second floor, for the below-SOL check).

    Reads come from DRAM (the L2 is flushed before each sample), but writes up to the L2's size may retire into L2
    inside the timed window, so only output bytes beyond it count at DRAM speed; compute at ``sm_clock_mhz``, the
    highest clock seen. Lower than T_SOL, which moves every byte through DRAM once.
    """
    retired = min(work.output_bytes, float(hw.l2_bytes))
    floor_work = Work(work.flops_by_dtype, max(work.bytes_moved - retired, 0.0), work.source, 0.0)
    return sol_bound(floor_work, hw, sm_clock_mhz=sm_clock_mhz).t_sol_ms

"""Speed-of-light bounds: the work a definition must do, T_SOL on a GPU at a clock, and the scores."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from .dtypes import DTYPES, is_fp4
from .hardware import Hardware, peak_key_for_dtype
from .trace import Definition, TraceError, eval_expression, expression_names


class SolError(TraceError):
    """A definition whose speed of light cannot be worked out (names the file and the ``sol`` field)."""


@dataclass(frozen=True)
class Work:
    """What one workload must do: tensor-core FLOPs per operand dtype and bytes to and from DRAM."""

    flops_by_dtype: dict[str, float]
    bytes_moved: float
    source: str  # "flops-<formula|meta|real>+bytes-<formula|io>"

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


def io_bytes(definition: Definition, axis_values: dict[str, int]) -> float:
    """Every tensor input read once and every output written once; Python scalars are free, 0-d tensors not."""
    return sum(
        bytes_of(definition.shape_of(spec, axis_values), spec.dtype)
        for spec in (*definition.inputs, *definition.outputs)
        if spec.shape is not None
    )


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
    unknown = set(sol) - {"flops", "bytes", "note"}
    if unknown:
        raise SolError(definition.path, f"sol.{sorted(unknown)[0]}", "unknown field (known: flops, bytes, note)")
    fields = [("sol.bytes", sol["bytes"])] if "bytes" in sol else []
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

    from .dtypes import to_torch

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
    namespace: dict[str, Any] = {"__name__": f"solbench_reference_{definition.name}"}
    try:
        exec(compile(definition.reference, f"<reference of {definition.name}>", "exec"), namespace)
    except Exception as exc:
        raise SolError(definition.path, "reference", f"cannot be loaded to count FLOPs: {type(exc).__name__}: {exc}")
    return namespace["run"]


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:160] if text else ''}".rstrip(": ")


def work_for(
    definition: Definition,
    axis_values: dict[str, int],
    count_args: Callable[[], list] | None = None,
    scalars: dict[str, Any] | None = None,
) -> Work:
    """The FLOPs and bytes of one workload (``axis_values``: every axis, as ``definition.axis_values`` gives).

    A ``sol`` formula in the definition wins. Otherwise bytes are the inputs and outputs, and FLOPs are counted
    by running the reference on meta tensors; if it cannot run there (``.item()``, data-dependent indexing),
    on the real arguments ``count_args()`` returns. Neither: ``SolError`` asking for a ``sol`` formula.
    """
    from .flops import count_flops

    validate_formula(definition)
    sol = definition.sol or {}
    if "bytes" in sol:
        bytes_moved, bytes_source = _evaluate(definition, "sol.bytes", sol["bytes"], axis_values), "formula"
    else:
        bytes_moved, bytes_source = io_bytes(definition, axis_values), "io"
    if "flops" in sol:
        flops = _formula_flops(definition, sol["flops"], axis_values)
        return Work(flops, bytes_moved, f"flops-formula+bytes-{bytes_source}")
    run = _reference_run(definition)
    try:
        flops = count_flops(run, meta_args(definition, axis_values, scalars))
        flops_source = "meta"
    except Exception as meta_exc:
        if count_args is None:
            raise SolError(
                definition.path, "sol",
                f"cannot count FLOPs: the reference does not run on meta tensors ({_why(meta_exc)}); "
                "add a 'sol' formula, e.g. {\"flops\": {\"bfloat16\": \"2*M*N*K\"}} (docs/sol.md)",
            ) from None  # fmt: skip
        try:
            flops = count_flops(run, count_args())
            flops_source = "real"
        except Exception as real_exc:
            raise SolError(
                definition.path, "sol",
                f"cannot count FLOPs: the reference fails on meta tensors ({_why(meta_exc)}) and on real "
                f"arguments ({_why(real_exc)}); add a 'sol' formula (docs/sol.md)",
            ) from None  # fmt: skip
    return Work(flops, bytes_moved, f"flops-{flops_source}+bytes-{bytes_source}")


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


# ---------------------------------------------------------------- scores


def _check(**times: float) -> None:
    for name, value in times.items():
        if not (value >= 0 and math.isfinite(value)):
            raise ValueError(f"{name} must be a finite time >= 0, got {value!r}")


def sol_score(t_k_ms: float, t_b_ms: float, t_sol_ms: float) -> float | None:
    """SOL-ExecBench's S = (T_b - T_SOL) / (T_k + T_b - 2 T_SOL): 0.5 at the baseline, 1 at SOL.

    None when T_b <= T_SOL (the score is undefined: the baseline already sits at the bound). A kernel time
    below T_SOL scores 1.0 here; ``below_sol`` is what flags it.
    """
    _check(t_k_ms=t_k_ms, t_b_ms=t_b_ms, t_sol_ms=t_sol_ms)
    headroom = t_b_ms - t_sol_ms
    if headroom <= 0:
        return None
    if t_k_ms <= t_sol_ms:
        return 1.0
    return headroom / (t_k_ms + t_b_ms - 2 * t_sol_ms)


def pct_sol(t_k_ms: float, t_sol_ms: float) -> float:
    """%SOL as a fraction, T_SOL / T_k (1.0 at the bound; format it with ``:.0%``)."""
    _check(t_sol_ms=t_sol_ms)
    if not (t_k_ms > 0 and math.isfinite(t_k_ms)):
        raise ValueError(f"t_k_ms must be a finite time > 0, got {t_k_ms!r}")
    return t_sol_ms / t_k_ms


def speedup(t_b_ms: float, t_k_ms: float) -> float:
    """T_b / T_k: above 1 when the kernel beats the baseline."""
    _check(t_b_ms=t_b_ms)
    if not (t_k_ms > 0 and math.isfinite(t_k_ms)):
        raise ValueError(f"t_k_ms must be a finite time > 0, got {t_k_ms!r}")
    return t_b_ms / t_k_ms


def below_sol(t_k_ms: float, t_sol_ms: float, slack: float = 0.0) -> bool:
    """Whether T_k beats the bound by more than ``slack`` (a fraction of T_SOL): a wrong bound or a cheat."""
    return t_k_ms < t_sol_ms * (1.0 - slack)


def problem_score(scores: list[float | None]) -> float | None:
    """Mean over a problem's workloads. The caller passes 0.0 for a failed workload; None (undefined score)
    is left out of the mean; a problem with no defined score is itself None."""
    defined = [s for s in scores if s is not None]
    return sum(defined) / len(defined) if defined else None


def suite_score(problem_scores: list[float | None], n_expected: int) -> float | None:
    """Mean over the ``n_expected`` problems: a missing problem counts 0, an undefined (None) one is left out."""
    if n_expected < len(problem_scores):
        raise ValueError(f"{len(problem_scores)} problem scores for {n_expected} expected problems")
    defined = [s for s in problem_scores if s is not None]
    counted = n_expected - (len(problem_scores) - len(defined))
    return sum(defined) / counted if counted else None

"""The correctness contract: default tolerances per output dtype, and comparing one output with a compact verdict.

An element passes when ``|got - expected| <= atol + rtol * |expected|`` (computed in float32; float64 for integer
outputs, so they stay exact). An output passes when the share of passing elements reaches the required ratio, the
largest error stays under the cap (when there is one), it holds no NaN or Inf (``-inf`` where the reference has ``-inf``
is allowed when the workload says so), and it is not all zeros against a reference that is not, and no ``SKIPPED_RUN``
elements in a row along its last dimension (rows of at least ``MIN_RUN_ROW``) are mostly wrong (``SKIPPED_SHARE``):
mismatches within the ratio must look like rounding, scattered, not like work skipped (a row or block left unwritten or
zeroed, where the few elements whose true value is near zero still pass), and the relative error norm
``||got - expected||_2 / ||expected||_2`` over every element finite in both (float64) stays under the dtype's bound. Type, shape
and dtype come first. Outputs are compared in chunks, so memory stays a few times the chunk size.

Default tolerances (a workload's own keys win):

    output dtype     atol    rtol    matched ratio   error cap   relative L2 error
    float64          1e-6    1e-6    0.99            -           0.0625
    float32          1e-4    1e-4    0.99            -           0.0625
    float16/bf16     1e-2    1e-2    0.99            -           0.03125
    float8_e4m3fn    0.125   0.125   0.95            32          0.125  (one e4m3 step at the top of its range)
    float8_e5m2      0.25    0.25    0.95            8192        0.25   (one e5m2 step at the top of its range)
    fp4 (e2m1)       0.5     0.5     0.9             2           -      (one e2m1 step at the top: 4 -> 6)
    ints, bool       0       0       1.0             -           -

The fp8/fp4 rtol is one step of the format (a rounding-mode difference passes, two steps do not). With a reduction
length K (the K of a GEMM), low-precision outputs (fp16, bf16, fp8, fp4) get ``atol * max(1, sqrt(K / 4096))``:
accumulation error grows like sqrt(K), and a flat atol tuned at K = 4096 fails correct kernels at K = 16384.

The relative L2 error does not move with atol: it holds the output, as a whole, to the answer however far atol was
widened, so an output whose true values are all small (attention averaged over 32k keys: RMS 0.009) cannot pass as
zeros (relative error 1) or with part of its work skipped (40 % of the keys: about 0.8); the ratio's exceptions count
too (red-team round 14). The bounds leave room for an honest kernel's few rounding units and a moved top-p cut.
16-bit outputs: half an e4m3 rounding unit, 2^-5, as an honest kernel may round an intermediate to fp8
(FlashAttention-3 rounds P to e4m3: 0.017 to 0.027 against the fp32 reference; bf16 P gives 0.0025), while attention
run in FP8 throughout on a bf16 problem (q, k, v and P rounded to e4m3: 0.053) is a lower precision than the problem
asks for (red-team round 68, er01). 32 and 64-bit outputs: 2^-4 (a moved top-p cut in an fp32 renorm).
fp8 outputs: one whole step of their format (an output off by a step everywhere still passes). Packed fp4 and
integer outputs keep their own rules. Where the reference is zero or subnormal in its dtype the ratio means nothing:
it is skipped and the statistics say so (``relative_l2_error_skipped``). A workload ``max_rtol`` above the bound
raises it (all elements within rtol means a relative L2 error within rtol); ``max_relative_l2_error`` sets it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from pytest_solbench.data.dtypes import DTYPES
from pytest_solbench.data.trace import Tolerance
from pytest_solbench.protocol import Status
from pytest_solbench.worker.chunks import chunk_summary

_CHUNK_ELEMENTS = 1 << 22
# On a GPU a chunk costs its kernels' launches and one read back, whatever its size: a 4096 x 4096 output in chunks of
# 2^22 took 3.2 ms on an H100 (session 15's judge_costs), 19 outputs an item. Its temporaries (float64 included) stay
# under 1 GiB at 2^24 elements.
_CUDA_CHUNK_ELEMENTS = 1 << 24
_SAMPLE_ROWS = 5
SKIPPED_RUN = 64  # consecutive elements along the last dimension (the whole row if shorter)...
SKIPPED_SHARE = 0.75  # ... of which this share wrong: skipped work, not rounding
MIN_RUN_ROW = 16  # rows shorter than this are not held to it (a block-scaled fp4/fp8 block may be off as a whole)
_REL_FLOOR = 1e-12  # relative error = |got - expected| / max(|expected|, atol), as the peers' tests report it; an exact
# comparison (atol 0) divides by max(|expected|, this) instead

_DEFAULTS: dict[str, Tolerance] = {
    "float64": Tolerance(1e-6, 1e-6, max_relative_l2_error=0.0625),
    "float32": Tolerance(1e-4, 1e-4, max_relative_l2_error=0.0625),
    "float16": Tolerance(1e-2, 1e-2, max_relative_l2_error=0.03125),
    "bfloat16": Tolerance(1e-2, 1e-2, max_relative_l2_error=0.03125),
    "float8_e4m3fn": Tolerance(0.125, 0.125, 0.95, 32.0, max_relative_l2_error=0.125),
    "float8_e5m2": Tolerance(0.25, 0.25, 0.95, 8192.0, max_relative_l2_error=0.25),
    "float4_e2m1": Tolerance(0.5, 0.5, 0.9, 2.0),
    "float4_e2m1fn_x2": Tolerance(0.5, 0.5, 0.9, 2.0),
}
_EXACT = Tolerance(0.0, 0.0, 1.0)
_K_SCALED = {"float16", "bfloat16", "float8_e4m3fn", "float8_e5m2", "float4_e2m1", "float4_e2m1fn_x2"}
_K_BASE = 4096


def default_tolerance(dtype_name: str, reduction_len: int | None = None) -> Tolerance:
    """The default tolerance for an output dtype (module docstring), atol widened for long reductions."""
    base = _DEFAULTS.get(dtype_name, _EXACT)
    if reduction_len and dtype_name in _K_SCALED and reduction_len > _K_BASE:
        base = dataclasses.replace(base, max_atol=base.max_atol * math.sqrt(reduction_len / _K_BASE))
    return base


def tolerance_for(
    output_dtype: str, workload_tolerance: dict[str, Any] | None = None, reduction_len: int | None = None
) -> Tolerance:
    """The dtype's default with the workload's own keys laid over it; a workload ``max_rtol`` above the default
    relative L2 bound raises that bound too, unless the workload sets ``max_relative_l2_error`` itself."""
    base = default_tolerance(output_dtype, reduction_len)
    if not workload_tolerance:
        return base
    known = {f.name for f in dataclasses.fields(Tolerance)}
    own = {k: v for k, v in workload_tolerance.items() if k in known}
    bound, rtol = base.max_relative_l2_error, own.get("max_rtol")
    if bound is not None and rtol is not None and "max_relative_l2_error" not in own:
        own["max_relative_l2_error"] = max(bound, rtol)
    return dataclasses.replace(base, **own)


@dataclass(frozen=True)
class ErrorStats:
    """How far an output is from the reference, over the elements where both are finite."""

    max_abs_error: float
    max_rel_error: float
    matched_ratio: float
    nonfinite_elements: int = 0
    relative_l2_error: float | None = None  # ||got - expected||_2 / ||expected||_2; None: not computed (why_no_l2)
    why_no_l2: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Trace field names (FlashInfer Trace ``correctness``)."""
        fields = {
            "max_absolute_error": self.max_abs_error,
            "max_relative_error": self.max_rel_error,
            "matched_ratio": self.matched_ratio,
            "nonfinite_elements": self.nonfinite_elements,
        }
        if self.relative_l2_error is not None:
            fields["relative_l2_error"] = self.relative_l2_error
        if self.why_no_l2 is not None:
            fields["relative_l2_error_skipped"] = self.why_no_l2
        return fields


Index = tuple[int, ...]


@dataclass(frozen=True)
class Mismatch:
    """Why one output failed, with just enough numbers to act on."""

    status: Status  # INCORRECT_SHAPE | INCORRECT_DTYPE | INCORRECT_NUMERICAL
    output: str
    tolerance: Tolerance
    mismatched: int = 0
    total: int = 0
    max_abs_error: float = 0.0
    max_abs_index: Index = ()
    max_rel_error: float = 0.0
    max_rel_index: Index = ()
    samples: tuple[tuple[Index, float, float], ...] = ()  # (index, got, expected)
    reasons: tuple[str, ...] = ()  # shape/dtype: what differs; numerical: NaN, zeros, cap, relative L2 error
    nonfinite_elements: int = 0
    relative_l2_error: float | None = None

    def message(self) -> str:
        """A few lines in the manner of ``torch.testing`` and ``pytest.approx``; never a tensor dump."""
        if self.status is not Status.INCORRECT_NUMERICAL:
            return f"output {self.output!r}: " + "; ".join(self.reasons)
        tol = self.tolerance
        limits = f"atol {tol.max_atol:g}, rtol {tol.max_rtol:g}"
        if tol.max_error_cap is not None:
            limits += f", error cap {tol.max_error_cap:g}"
        lines = [
            f"output {self.output!r}: {self.mismatched:,} / {self.total:,} elements ({_percent(self.mismatched, self.total)})"
            f" mismatched, {tol.required_matched_ratio * 100:.4g}% must match ({limits})"
        ]
        if self.nonfinite_elements < self.total:
            l2 = "" if self.relative_l2_error is None else f"; relative L2 error {self.relative_l2_error:.3g}"
            lines.append(
                f"max abs error {self.max_abs_error:.3g} at {_index(self.max_abs_index)}; "
                f"max rel error {self.max_rel_error:.3g} at {_index(self.max_rel_index)}{l2}"
            )
        lines += self.reasons
        if self.samples:
            rows = [(_index(i), f"{g:.6g}", f"{e:.6g}") for i, g, e in self.samples]
            widths = [max(len(r[c]) for r in [("index", "got", "expected"), *rows]) for c in range(3)]
            for cells in [("index", "got", "expected"), *rows]:
                lines.append("  " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
        return "\n".join(lines)


def _percent(part: int, whole: int) -> str:
    if not whole or not part:
        return "0%"
    value = 100 * part / whole
    digits = max(0, 1 - math.floor(math.log10(value)))
    return f"{value:.{digits}f}%"


def _index(index: Index) -> str:
    return "(" + ", ".join(str(i) for i in index) + ")"


def _unravel(flat: int, shape: tuple[int, ...]) -> Index:
    out = []
    for size in reversed(shape):
        flat, rest = divmod(flat, size) if size else (flat, 0)
        out.append(rest)
    return tuple(reversed(out))


def compare(name: str, got: Any, expected: Any, tol: Tolerance, expected_dtype: str | None = None) -> Mismatch | None:
    """The verdict alone: ``None`` when ``got`` passes."""
    return check_output(name, got, expected, tol, expected_dtype)[1]


def check_output(
    name: str, got: Any, expected: Any, tol: Tolerance, expected_dtype: str | None = None
) -> tuple[ErrorStats | None, Mismatch | None]:
    """Compare one output with the reference's. Stats are None when the type, shape or dtype is already wrong.

    ``expected_dtype`` is the definition's dtype name; without it the reference's dtype is the one to match. A
    scalar output (the reference returned a Python number) may come back as a number or a strict 0-d tensor.
    A reference output that is neither a tensor nor a number is the reference's fault: ``TypeError``.
    """
    import torch

    def wrong(status: Status, why: str) -> tuple[None, Mismatch]:
        return None, Mismatch(status, name, tol, reasons=(why,))

    if not isinstance(expected, (torch.Tensor, int, float)):
        raise TypeError(f"the reference's output {name!r} is {_kind(expected)}, neither a tensor nor a number")
    if not isinstance(expected, torch.Tensor):
        if type(got) in (int, float, bool) or (type(got) is torch.Tensor and got.ndim == 0):
            pair = torch.tensor(float(got), dtype=torch.float64), torch.tensor(float(expected), dtype=torch.float64)
            return _numerical(name, *pair, tol, exact=isinstance(expected, int))
        return wrong(Status.INCORRECT_DTYPE, f"is {_kind(got)}, expected a number or a 0-d torch.Tensor")
    if type(got) is not torch.Tensor:
        return wrong(Status.INCORRECT_DTYPE, f"is {_kind(got)}, expected a torch.Tensor (subclasses are not accepted)")
    if got.shape != expected.shape:
        return wrong(Status.INCORRECT_SHAPE, f"got shape {tuple(got.shape)}, expected {tuple(expected.shape)}")
    want = expected.dtype if expected_dtype is None else _torch_dtype(expected_dtype)
    if got.dtype != want:
        return wrong(Status.INCORRECT_DTYPE, f"got dtype {_dtype_name(got.dtype)}, expected {_dtype_name(want)}")
    exact = expected_dtype is not None and not DTYPES[expected_dtype].is_float
    exact = exact or not (got.is_floating_point() or _is_packed_fp4(got))
    return _numerical(name, got, expected, tol, exact)


def reference_fault(name: str, expected: Any, tol: Tolerance) -> str | None:
    """Why a reference's output cannot be compared against: NaN or Inf in it (``-inf`` allowed where the workload
    says so). A few bad elements would otherwise only count against the matched ratio, and a kernel could pass a
    check its reference fails."""
    import torch

    if not isinstance(expected, torch.Tensor) or not (expected.is_floating_point() and expected.numel()):
        return None
    if _is_packed_fp4(expected):
        return None  # e2m1 has no NaN or Inf
    if expected.element_size() < 2:  # float8: isfinite and comparisons are not implemented everywhere
        expected = expected.float()
    bad = ~torch.isfinite(expected)
    if tol.allow_negative_inf:
        bad &= expected != float("-inf")
    count = int(bad.sum())
    if not count:
        return None
    first = _unravel(int(torch.nonzero(bad.reshape(-1))[0]), tuple(expected.shape))
    return (f"the reference's output {name!r} holds {count:,} NaN or Inf (first at {_index(first)}); a workload that "
            "expects -inf says so with tolerance.allow_negative_inf")  # fmt: skip


def _skipped_run(wrong: Any, row: int, run: int) -> int | None:
    """The flat index (within ``wrong``, whole rows of ``row``) where ``run`` elements in a row, mostly wrong
    (``SKIPPED_SHARE``), start; None when there are none."""
    import torch

    counts = torch.nn.functional.pad(wrong.reshape(-1, row).to(torch.int32).cumsum(-1), (1, 0))
    windows = counts[:, run:] - counts[:, : row - run + 1]  # wrong elements in each window of ``run``
    hits = torch.nonzero(windows.reshape(-1) >= math.ceil(run * SKIPPED_SHARE)).reshape(-1)
    if not hits.numel():
        return None
    first, column = divmod(int(hits[0]), row - run + 1)
    rows = wrong.reshape(-1, row)
    return first * row + column + int(torch.nonzero(rows[first, column : column + run])[0])  # its first wrong one


def _kind(value: Any) -> str:
    return f"a {type(value).__module__}.{type(value).__qualname__}" if value is not None else "None"


def _torch_dtype(name: str):  # -> torch.dtype
    from pytest_solbench.data.inputs import torch_dtype

    return torch_dtype(name)


def _dtype_name(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


def _is_packed_fp4(tensor: Any) -> bool:
    return "float4" in str(tensor.dtype)


def _numerical(
    name: str, got: Any, expected: Any, tol: Tolerance, exact: bool
) -> tuple[ErrorStats, Mismatch | None]:
    """Chunked element-wise comparison; one host sync per chunk."""
    import torch

    from pytest_solbench.data.inputs import unpack_fp4

    packed = _is_packed_fp4(got)
    shape = tuple(got.shape[:-1]) + (got.shape[-1] * 2,) if packed else tuple(got.shape)
    work = torch.float64 if exact else torch.float32
    flat_got = got.reshape(-1) if got.ndim else got.reshape(1)
    flat_exp = expected.to(got.device).reshape(-1) if expected.ndim else expected.to(got.device).reshape(1)
    total = flat_got.numel() * (2 if packed else 1)
    mismatched = nonfinite = 0
    max_abs = max_rel = 0.0
    abs_at = rel_at = 0
    got_nonzero = exp_nonzero = False
    error_sq = expected_sq = 0.0  # sums of squares over the elements finite in both, for the relative L2 error
    compared = 0
    bad_samples: list[int] = []
    step = (_CUDA_CHUNK_ELEMENTS if got.is_cuda else _CHUNK_ELEMENTS) // (2 if packed else 1)
    row = shape[-1] if shape else 1
    run = min(SKIPPED_RUN, row) if row >= MIN_RUN_ROW and not exact else 0
    if run:
        packed_row = row // 2 if packed else row
        step = max(packed_row, step // packed_row * packed_row)  # chunks of whole rows
    run_at = None
    for start in range(0, flat_got.numel(), step):
        g, e = flat_got[start : start + step], flat_exp[start : start + step]
        g, e = (unpack_fp4(g), unpack_fp4(e)) if packed else (g.to(work), e.to(work))
        offset = start * (2 if packed else 1)
        summary, ok = chunk_summary(g, e, tol, max(tol.max_atol, _REL_FLOOR))
        bad, nonfin, chunk_abs, chunk_abs_at, chunk_rel, chunk_rel_at, any_got, any_exp, err_sq, exp_sq, n = summary
        mismatched, nonfinite, compared = mismatched + int(bad), nonfinite + int(nonfin), compared + int(n)
        error_sq, expected_sq = error_sq + err_sq, expected_sq + exp_sq
        if chunk_abs > max_abs:
            max_abs, abs_at = chunk_abs, offset + int(chunk_abs_at)
        if chunk_rel > max_rel:
            max_rel, rel_at = chunk_rel, offset + int(chunk_rel_at)
        got_nonzero, exp_nonzero = got_nonzero or bool(any_got), exp_nonzero or bool(any_exp)
        if bad and run and run_at is None:
            at = _skipped_run(~ok, row, run)
            run_at = None if at is None else offset + at
        if bad and len(bad_samples) < _SAMPLE_ROWS:
            first = torch.nonzero(~ok).reshape(-1)[: _SAMPLE_ROWS - len(bad_samples)]
            bad_samples += [offset + i for i in first.tolist()]
    l2, why_no_l2 = _relative_l2(error_sq, expected_sq, compared, got.dtype, exact or packed)
    stats = ErrorStats(max_abs, max_rel, (total - mismatched) / total if total else 1.0, nonfinite, l2, why_no_l2)

    reasons = []
    if nonfinite:
        hint = " (outputs start as NaN: were they all written?)" if nonfinite == total else ""
        reasons.append(f"{nonfinite:,} NaN or Inf in the output{hint}")
    if not got_nonzero and exp_nonzero:
        reasons.append("the output is all zeros; the reference is not")
    if run_at is not None:
        where = _index(_unravel(run_at, shape))
        reasons.append(f"{math.ceil(run * SKIPPED_SHARE)} or more of {run} elements in a row along the last dimension "
                       f"are wrong (from {where}): skipped work, not rounding")  # fmt: skip
    if tol.max_error_cap is not None and max_abs > tol.max_error_cap:
        reasons.append(f"max abs error {max_abs:.3g} is above the error cap {tol.max_error_cap:g}")
    if l2 is not None and tol.max_relative_l2_error is not None and l2 > tol.max_relative_l2_error:
        reasons.append(f"relative L2 error ||got - expected|| / ||expected|| is {l2:.3g}, above "
                       f"{tol.max_relative_l2_error:g}: the output as a whole is not the answer, even where its "
                       "elements are within atol")  # fmt: skip
    ratio_ok = total == 0 or (total - mismatched) >= tol.required_matched_ratio * total - 1e-9 * total
    if ratio_ok and not reasons:
        return stats, None

    def value_at(tensor: Any, flat: int) -> float:
        if packed:
            return float(unpack_fp4(tensor.reshape(-1)[flat // 2 : flat // 2 + 1])[flat % 2])
        return float(tensor.reshape(-1)[flat].to(work)) if tensor.ndim else float(tensor.to(work))

    if abs_at in bad_samples or not total:
        shown = bad_samples
    else:  # the worst element first among the rows, even when it passes (a NaN elsewhere failed the output)
        shown = [abs_at, *bad_samples[: _SAMPLE_ROWS - 1]]
    samples = tuple((_unravel(i, shape), value_at(got, i), value_at(expected, i)) for i in sorted(shown))
    return stats, Mismatch(
        Status.INCORRECT_NUMERICAL, name, tol, mismatched, total, max_abs, _unravel(abs_at, shape), max_rel,
        _unravel(rel_at, shape), samples, tuple(reasons), nonfinite, l2,
    )  # fmt: skip


def _relative_l2(
    error_sq: float, expected_sq: float, finite: int, dtype: Any, exact: bool
) -> tuple[float | None, str | None]:
    """``||got - expected||_2 / ||expected||_2`` and, where it is not computed, why (None for exact and fp4 outputs,
    which have their own rules)."""
    import torch

    if exact:
        return None, None
    smallest_normal = torch.finfo(dtype).tiny
    if finite == 0 or expected_sq <= finite * smallest_normal**2:
        return None, "the reference is zero or subnormal (RMS below the smallest normal of its dtype)"
    return math.sqrt(error_sq / expected_sq), None

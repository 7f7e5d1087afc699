"""The vendor ops a kernel's checked calls dispatched, whatever name reached them (red-team round 18's root fix).

The static rules judge the names a kernel's source uses, and rounds 14 to 18 kept finding names they did not follow
to a vendor op: a registry's values (``torch.overrides``), an op looked up by a string, a second name of a function,
a native binding under a Python wrapper. Every such call still enters torch's dispatcher under the operator's own
name. So every checked call runs under torch's profiler with only its CPU activity: each correctness round, the
recheck of a wrong timed call, one more call after the timed ones (a kernel lazy only once the correctness rounds were
over: round 19, w08) and CPU mode's short batch (a single drawn round let a kernel that sensed the profiler's cost, or
read its stack, run the vendor op in the others: round 20, x01, x03, x07). On the GPU the call after the timed ones is CUPTI's
(its kernels are compared with the timed calls'), whose profile gives its host side's operators. A record the kernel stopped (it lacks a marker of a size drawn per call, run
after the kernel returned) is ``patching`` (round 20, x13). The profiler records every operator
the dispatcher enters, composite ones too (``aten::rms_norm`` before it decomposes), on every thread where this torch
can (``_all_threads``), without changing how any of them runs. An ``aten``/``prims`` operator of the problem's vendor
family (the static rule's own table, ``guard.tables.vendor_names``, read by ``guard.corners.vendor_family``) is
``vendor-op``: the verdict the static rule gives the same call written out, with the same allowance
(``SOLBENCH_ALLOW``, never under ``--solbench-guard strict``; ``ItemRequest.allowed_rules``).

What it does not see: torch's kernels reached without the dispatcher (from C++, or a library of the kernel's own),
which the static C++ rules read; other threads on a torch without ``profile_all_threads``; the timed calls (on the
GPU their kernels must be the checked calls': ``kernel-set-changed``). 
The record is made in the kernel's process, and judged in the judge's (``finding``, called by ``judge.referee`` and
``judge.timed`` on the names the reply carries as plain strings): a kernel that replaced this module's functions in
its own process (round 22, aa03) changes nothing the judge reads. Beyond the families' deny-list, the judge holds
every ``aten`` operator to the allow-list of what honest kernels need from torch (``guard.operators``): an op no
family names yet (every round from 18 to 22 found some) is ``vendor-op`` too. A record that could not start (a
profiler of the kernel's own already running) is ``patching``, as a stopped one is.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Iterable, Iterator

from pytest_solbench.guard import operators
from pytest_solbench.guard.corners import vendor_family
from pytest_solbench.guard.families import (BLOCK_ALONE, BLOCK_PARTS, GEMM_PARTS, SOFTMAX_PARTS, VENDOR_FAMILIES, Family,
                                            family_parts, family_tables, matching_families,
                                            vendor_families)  # fmt: skip

NAMESPACES = ("aten", "prims")  # torch's own operators; a kernel's custom ops live in namespaces of their own


def vendor_dispatches(names: Iterable[str], op_type: str, families: list[Family] | None = None) -> list[tuple[str, str]]:
    """(operator, family) for each dispatched operator (``aten::mm``) that is a vendor op of ``op_type`` (of
    ``families``, where given: every family a fused op names)."""
    vendor, methods = family_tables(vendor_families(op_type) if families is None else families)
    found = []
    for name in sorted(set(names)):
        namespace, _, op = name.partition("::")
        if namespace in operators.ELSEWHERE and operators.allowed_in(namespace, op):
            continue  # Inductor's questions to oneDNN about the CPU, not oneDNN's work (round 26: a cold compile)
        family = vendor_family(op, vendor, methods) if namespace in NAMESPACES and op else None
        if not op:  # a label: torch's own autograd Function runs its Python under its class's name
            family = _library_function(namespace, vendor)
        if op and not family:  # another namespace's op the table names (torch.ops.mkldnn: round 21, A3)
            dotted = f"torch.ops.{namespace}.{op}"
            family = next((f for prefix, f in vendor.items() if dotted == prefix or dotted.startswith(prefix + ".")),
                          None)  # fmt: skip
        if family:
            found.append((name, family))
    return found


@functools.lru_cache(maxsize=1)
def _torch_functions() -> frozenset[str]:
    """The names of torch's own ``autograd.Function`` classes of ``torch.nn`` (``CrossMapLRN2d``), whose record
    labels a reply carries (:func:`_library_function`)."""
    import torch
    from torch.nn.modules import _functions

    return frozenset(name for name, value in vars(_functions).items()
                     if isinstance(value, type) and issubclass(value, torch.autograd.Function))  # fmt: skip


def _library_function(label: str, vendor: dict[str, str]) -> str | None:
    """The family of a vendor entry named as one of torch's own ``autograd.Function`` classes of ``torch.nn`` is,
    where ``label`` (a record's name without a namespace) is that class's: its forward and backward are Python whose
    record is otherwise primitives (``torch.nn.CrossMapLRN2d``, a whole RMSNorm: red-team round 40, bj05, one of two
    library parts of a fused op)."""
    name = label.removesuffix("Backward")
    if name not in _torch_functions():
        return None
    return next((family for entry, family in vendor.items() if entry.rpartition(".")[2] == name), None)


def unlisted(names: Iterable[str], op_type: str) -> list[str]:
    """The dispatched operators of torch's outside the allow-list for ``op_type`` (``guard.operators``): an ``aten``
    op, or an op of torch's other namespaces (``mkl``, ``onednn``, ``_quantized``: round 23, ac01 to ac10); a
    kernel's own custom ops (a namespace torch does not register) and ``prims`` pass."""
    parts = family_parts(op_type)
    found = []
    for name in sorted(set(names)):
        namespace, _, op = name.partition("::")
        if op and not operators.allowed_in(namespace, op, parts):
            found.append(name)
    return found


def finding(names: Iterable[str], op_type: str, when: str = "at run time", allow_list: bool = True,
            ) -> tuple[str, str] | None:  # fmt: skip
    """The judge's verdict on one request's operator record (the names as the kernel's process sent them): (rule,
    message), or None where every operator is one an honest kernel of ``op_type`` may dispatch.

    A fused op (``linear_gelu``: several families) may hand one family's part to the library, never two: a kernel
    whose every part is a library call does none of the work (red-team round 23, ac07). Without ``allow_list`` only
    the families' library ops count (the import: a table built there with ``torch.linalg`` or an FFT on constants is
    honest, and no input is there to work on: red-team round 27, al13, al16, al17); ``when`` says where they ran."""
    names = set(names)
    if STOPPED in names:
        return "patching", stopped_message()
    if FLOODED in names:
        return "patching", f"the call's operator record held more than {MAX_SENT} names: what ran is out of sight"
    if UNRECORDED in names:
        return "patching", ("the judge's record of the operators the call dispatched could not start in the kernel's "
                            "process (a profiler of the kernel's own was running?): what ran is out of sight")
    families = matching_families(op_type)
    if not families:
        return _block_finding(names, op_type, when)
    found = vendor_dispatches(names, op_type, families)
    if len(families) == 1 and found:
        return "vendor-op", message(found, when)
    handed = _parts_handed_over(names, found) if len(families) > 1 else []
    if len(handed) > 1:
        ops = ", ".join(f"{name} ({part})" for name, part in handed[:6])
        return "vendor-op", (f"dispatched {ops} {when}: a fused {op_type} may hand one part to the library, not "
                             "every part; if it is honest, allow it with SOLBENCH_ALLOW = {'vendor-op': 'why'}")
    outside = unlisted(names - {name for name, _ in found}, op_type) if allow_list else []
    if outside:
        return "vendor-op", (
            f"dispatched {', '.join(outside[:4])} {when}: not among the operators an honest {op_type} kernel "
            "needs from torch (elementwise ops, reductions, views, copies, indexing, sorts and scans; "
            "guard.operators); if it is honest (a part the kernel does not claim), allow it with "
            "SOLBENCH_ALLOW = {'vendor-op': 'why'}")
    return None


def _block_finding(names: set[str], op_type: str, when: str) -> tuple[str, str] | None:
    """A fused block of no family (``families.BLOCK_PARTS``): the library may do one of its heavy parts, not every
    one, and nothing beyond the primitives, its parts and GEMMs (a convolution by a triangular solve: round 41,
    bm03); a part in ``BLOCK_ALONE`` is refused alone (a library conv1d does Hyena's long filter whole: bm02) unless
    every convolution the record saw had a few taps (``SHORT_CONVOLUTIONS``: Hyena's three-tap short filter by
    ``F.conv1d`` is a part, as its reference does it: rounds 40 and 42, br FV-1, bu FV-9). A GEMM
    counts as the conv family's part, as it does there: uncounted, a conv by nine shifted views and a GEMM, or
    Hyena's long filter by a Toeplitz GEMM, passed (round 42, bp01, bp06); so a small one (a time embedding's
    projection, a modal filter's einsum: round 41, bo FV-5, FV-6) needs an allowance beside another library part."""
    parts = BLOCK_PARTS.get(op_type, ())
    families = [f for f in VENDOR_FAMILIES if f.label in parts]
    found = vendor_dispatches(names, op_type, families)  # a GEMM is the conv family's: im2col (round 42, bp01)
    if "conv" in parts:  # every GEMM part too: torch.mv per pixel or per channel (red-team round 48, ch02, ch03)
        found += [(n, "conv") for n in sorted(names) if n.partition("::")[0] == "aten"
                  and n.partition("::")[2] in GEMM_PARTS and (n, "conv") not in found]  # fmt: skip
    handed = {family: name for name, family in found}
    ffts = sorted(n for n in names if n.partition("::")[2] in FFT_OPS)
    if "fft" in parts and ffts:
        handed["fft"] = ffts[0]
    alone = [(part, name) for part, name in sorted(handed.items()) if part in BLOCK_ALONE.get(op_type, ())
             and not (SHORT_CONVOLUTIONS in names and all(_convolution(n) for n, f in found if f == part))]
    if alone:
        return "vendor-op", (f"dispatched {alone[0][1]} ({alone[0][0]}) {when}: in a {op_type} a library "
                             f"{alone[0][0]} can do the whole heavy part; if it is honest, allow it with "
                             "SOLBENCH_ALLOW = {'vendor-op': 'why'}")  # fmt: skip
    if len(handed) > 1:
        ops = ", ".join(f"{name} ({part})" for part, name in sorted(handed.items()))
        return "vendor-op", (f"dispatched {ops} {when}: a fused {op_type} may hand one of its parts to the library, "
                             "not every one; if it is honest, allow it with SOLBENCH_ALLOW = {'vendor-op': 'why'}")
    allowed = frozenset(p for family in families for p in family.parts) | GEMM_PARTS | FFT_OPS
    outside = [n for n in sorted(names - {name for name, _ in found})
               if n.partition("::")[2] and not operators.allowed_in(*n.split("::", 1), allowed)]  # fmt: skip
    if outside:
        return "vendor-op", (f"dispatched {', '.join(outside[:4])} {when}: not among the operators an honest "
                             f"{op_type} kernel needs from torch (elementwise ops, reductions, views, copies, "
                             "indexing, its parts); if it is honest, allow it with SOLBENCH_ALLOW = {'vendor-op': 'why'}")
    return None


#: torch's FFT kernels (``torch.fft``'s functions are composites of these)
FFT_OPS = frozenset(("_fft_r2c", "_fft_c2r", "_fft_c2c"))


def _parts_handed_over(names: set[str], found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The parts of a fused op the library did, one operator each: every vendor op's family, and a GEMM or a softmax
    no family of the op type names counted as the GEMM's or the softmax's (a MoE router as ``torch.softmax(x @ w.T)``:
    red-team round 24, ae01)."""
    handed = {family: name for name, family in found}
    for name, family in found:  # one library op that ends in an activation does two parts (round 25, e01-e03)
        namespace, _, op = name.partition("::")
        if op in EPILOGUES or operators.library_namespace(namespace):
            handed.setdefault("epilogue", name)
    named = {name for name, _ in found}
    for name in sorted(names - named):
        namespace, _, op = name.partition("::")
        if namespace == "aten" and op in GEMM_PARTS:
            handed.setdefault("matmul", name)
        elif namespace == "aten" and op in SOFTMAX_PARTS:
            handed.setdefault("softmax", name)
    return [(name, part) for part, name in sorted(handed.items())]


#: torch's library ops that fuse an activation into a GEMM or a convolution: two parts of a fused op in one call. Every
#: op of torch's library namespaces (``mkldnn::_linear_pointwise(..., "gelu")``) counts so too.
EPILOGUES = frozenset(("_addmm_activation", "cudnn_convolution_relu", "cudnn_convolution_add_relu",
                       "miopen_convolution_relu", "miopen_convolution_add_relu"))  # fmt: skip


def sent(names: set[str]) -> list[str]:
    """What a reply carries of a record: the operators (``namespace::op``) and the markers, sorted; a record of more
    than ``MAX_SENT`` names (a kernel's own ranges named like operators, to crowd torch's out) is ``FLOODED``."""
    kept = sorted(n for n in names if "::" in n or n in MARKERS or n.removesuffix("Backward") in _torch_functions())
    return kept if len(kept) <= MAX_SENT else [FLOODED]


MAX_SENT = 5000  # torch 2.13 registers about 1,600 aten operators


def watched(op_type: str) -> bool:
    """Whether ``op_type`` names a vendor family (a fused op names several): its checked calls are recorded."""
    return bool(matching_families(op_type)) or op_type in BLOCK_PARTS


@contextlib.contextmanager
def recorded() -> Iterator[set[str]]:
    """The names of the operators the dispatcher entered in the block, on every thread where this torch can record
    them all (``_all_threads``), filled in when it ends (empty where the profiler could not start: another one active,
    or none on this build). Under a ms a call on the 2-core CPU machine (the marker on a real tensor of up to 1 MiB
    took 19 ms there: it is a meta tensor now); the profiler's own start and stop lines
    (torch 2.13 logs them to stderr) are kept out of the kernel's stderr."""
    import secrets

    import torch

    seen: set[str] = set()
    try:
        profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True,
                                          **_all_threads())  # fmt: skip
        with _quiet():
            profiler.__enter__()
    except Exception:  # noqa: BLE001  a record that cannot start is the judge's finding (``finding``)
        seen.add(UNRECORDED)
        yield seen
        return
    marker = 7 + secrets.randbelow(1 << 20)  # a size the kernel cannot know: the record must still hold it at the end
    try:
        yield seen
    finally:
        try:
            torch.empty(marker, dtype=torch.uint8, device="meta").sum()  # a meta tensor: its shape, no memory
            with _quiet():
                profiler.__exit__(None, None, None)
            # Kineto's own events, not ``profiler.events()``, whose tree of FunctionEvents took 81 ms for 900 ops
            # (4.5 ms so): an eager kernel's checked calls dispatch hundreds (session 15)
            events = profiler.profiler.kineto_results.events()
            # a marker is the record's word, never an event's name: an autograd Function renamed so forged one
            seen.update(name for name in (event.name() for event in events) if name not in MARKERS)  # (round 46, cb04)
            if short_convolutions(events):
                seen.add(SHORT_CONVOLUTIONS)
            if not any(e.name() == "aten::sum" and [marker] in list(e.shapes() or ()) for e in events):
                seen.add(STOPPED)  # the kernel stopped the record (round 20, x13)
        except Exception:  # noqa: BLE001  the record broke inside the call: what ran is out of sight
            seen.clear()
            seen.add(STOPPED)


STOPPED = "<record stopped>"
UNRECORDED = "<record not started>"
FLOODED = "<record flooded>"
SHORT_CONVOLUTIONS = "<every convolution short>"
MARKERS = (STOPPED, UNRECORDED, FLOODED, SHORT_CONVOLUTIONS)

#: Taps a convolution's kernel may have to be a short filter (Hyena's has 3, Mamba's causal conv 4): a long filter
#: made of such convolutions over shifted inputs takes a pass of the input per few taps.
SHORT_TAPS = 4


def _convolution(name: str) -> bool:
    """Whether an operator's name (``aten::mkldnn_convolution``) is a convolution's."""
    op = name.partition("::")[2]
    return "conv" in op and "convert" not in op


def _short(event) -> bool:
    """A convolution event whose weight (the second input, ``[out, in / groups, *taps]``) reads at most
    ``SHORT_TAPS`` values per output: its taps times its inputs per group (a one-tap convolution over the shifted
    copies of the sequence laid out as channels, or over a Toeplitz matrix's rows, does a long filter whole: red-team
    round 46, cb01, cb02). ``conv_tbc`` lays its weight out ``[taps, in, out]`` and a backward's second input is not
    a weight: neither is short; nor is an event without shapes (a range the kernel named like an operator)."""
    shapes = list(event.shapes() or ())
    op = event.name().partition("::")[2]
    if op not in _FORWARD_CONVOLUTIONS or len(shapes) < 2 or len(shapes[1]) < 3:
        return False
    if op in ("convolution", "_convolution") and _argument(event, 6) is not False:  # ``transposed``, or unknown
        return False
    reads = 1
    for size in shapes[1][1:]:
        reads *= size
    return reads <= SHORT_TAPS


#: Forward convolutions whose weight is laid out ``[out, in / groups, *taps]``: a transposed one's is
#: ``[in, out / groups, *taps]``, so a grouped one-tap transposed convolution over shifted copies laid out as channels
#: read as one value per output and did Hyena's long filter whole (red-team round 47, ce01; ce03 by
#: ``torch.convolution``'s ``transposed`` argument, no "transpose" in any name)
_FORWARD_CONVOLUTIONS = frozenset(("conv1d", "conv2d", "conv3d", "convolution", "_convolution", "mkldnn_convolution",
                                   "cudnn_convolution", "miopen_convolution", "miopen_depthwise_convolution",
                                   "_conv_depthwise2d", "thnn_conv2d", "_slow_conv2d_forward", "slow_conv3d",
                                   "slow_conv3d_forward", "_nnpack_spatial_convolution"))


def _argument(event, index: int) -> object:
    """A recorded event's scalar argument (``record_shapes`` keeps them), or None where it is not there."""
    try:
        values = list(event.concrete_inputs() or ())
    except Exception:  # noqa: BLE001  a torch without the field
        return None
    return values[index] if index < len(values) else None


def short_convolutions(events: list) -> bool:
    """Whether the record saw convolutions and every one had a few taps (``_short``)."""
    convolutions = [e for e in events if _convolution(e.name())]
    return bool(convolutions) and all(_short(e) for e in convolutions)


def stopped_message() -> str:
    return ("the record of the operators the call dispatched was stopped inside the call (the judge's profiler "
            "switched off, or ended by a profiler of the kernel's own): what ran is out of sight")


def hold_the_record() -> None:
    """Before a kernel is imported: torch's switch of the dispatcher's operator record
    (``torch.autograd._enable_record_function``, its binding in ``torch._C._autograd``; torch's own code never calls it)
    becomes a no-op, so a call that switched the record off around a vendor op (red-team round 24, af04, through an
    alias of torch no name rule followed) still has the op recorded. The integrity snapshot, taken after, holds the
    no-op in place (``integrity.WATCHED_NAMES``)."""
    import torch

    def switch(enabled: bool = True) -> None:
        """The record stays on: it is the judge's."""

    for module in (torch._C._autograd, torch.autograd):
        if hasattr(module, "_enable_record_function"):
            module._enable_record_function = switch


def _all_threads() -> dict:
    """The profiler's option to record every thread, where this torch has it (a vendor op run on a thread the call
    starts and joins was unseen on the calling thread's record: red-team round 19, w10)."""
    try:
        from torch._C._profiler import _ExperimentalConfig

        return {"experimental_config": _ExperimentalConfig(profile_all_threads=True)}
    except (ImportError, TypeError):
        return {}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """File descriptor 2 pointed at the null device for the block."""
    import os

    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def message(found: list[tuple[str, str]], when: str = "at run time") -> str:
    ops = ", ".join(f"{name} ({family})" for name, family in found[:4])
    return (f"dispatched {ops} {when}: the library's own op for this problem, reached by no name the static "
            "rules read; if it is honest (a part the kernel does not claim), allow it with "
            "SOLBENCH_ALLOW = {'vendor-op': 'why'}")

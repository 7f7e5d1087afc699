"""The vendor ops a kernel's correctness calls dispatched, whatever name reached them (red-team round 18's root fix).

The static rules judge the names a kernel's source uses, and rounds 14 to 18 kept finding names they did not follow
to a vendor op: a registry's values (``torch.overrides``), an op looked up by a string, a second name of a function,
a native binding under a Python wrapper. Every such call still enters torch's dispatcher under the operator's own
name. So one correctness call of each item, drawn by the judge (``ItemRequest.rounds``; not the GPU's last, which
CUPTI profiles for the kernel set), runs under torch's profiler with only its CPU activity, which records
every operator the dispatcher enters on the calling thread (composite ones too: ``aten::rms_norm`` on CPU, before it decomposes) without
changing how any of them runs; an ``aten``/``prims`` operator of the problem's vendor family (the static rule's own
table, ``guard.tables.vendor_names``, read by ``guard.corners.vendor_family``) is ``vendor-op``: the verdict the
static rule gives the same call written out, with the same allowance (``SOLBENCH_ALLOW``, never under
``--solbench-guard strict``; ``ItemRequest.allowed_rules``).

What it does not see: operators run on another thread (the static rules name threads; a pool the call waits for
is allowed), torch's kernels reached without the dispatcher (from C++, or a library of the kernel's own), which the
static C++ rules read; the timed calls (on the GPU their kernels must be the checked calls', the
``kernel-set-changed`` check). A profiler the machine cannot start leaves the call unrecorded, never failed.
"""

from __future__ import annotations

import contextlib
from typing import Iterable, Iterator

from pytest_solbench.guard.corners import vendor_family
from pytest_solbench.guard.tables import vendor_names

NAMESPACES = ("aten", "prims")  # torch's own operators; a kernel's custom ops live in namespaces of their own


def vendor_dispatches(names: Iterable[str], op_type: str) -> list[tuple[str, str]]:
    """(operator, family) for each dispatched operator (``aten::mm``) that is a vendor op of ``op_type``."""
    vendor, methods = vendor_names(op_type)
    found = []
    for name in sorted(set(names)):
        namespace, _, op = name.partition("::")
        family = vendor_family(op, vendor, methods) if namespace in NAMESPACES and op else None
        if family:
            found.append((name, family))
    return found


def watched(op_type: str) -> bool:
    """Whether ``op_type`` has a vendor family to watch for (a fused op of several has none: ``vendor_names``)."""
    vendor, methods = vendor_names(op_type)
    return bool(vendor or methods)


@contextlib.contextmanager
def recorded() -> Iterator[set[str]]:
    """The names of the operators the dispatcher entered on this thread in the block, filled in when it ends (empty
    where the profiler could not start: another one active, or none on this build). About 7 ms a call on the 2-core
    CPU machine; the profiler's own start and stop lines (torch 2.13 logs them to stderr) are kept out of the
    kernel's stderr."""
    import torch

    seen: set[str] = set()
    try:
        profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
        with _quiet():
            profiler.__enter__()
    except Exception:  # noqa: BLE001  no record is no verdict: the static rules still stand
        yield seen
        return
    try:
        yield seen
    finally:
        try:
            with _quiet():
                profiler.__exit__(None, None, None)
            seen.update(event.name for event in profiler.events())
        except Exception:  # noqa: BLE001
            seen.clear()


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


def message(found: list[tuple[str, str]]) -> str:
    ops = ", ".join(f"{name} ({family})" for name, family in found[:4])
    return (f"dispatched {ops} at run time: the library's own op for this problem, reached by no name the static "
            "rules read; if it is honest (a part the kernel does not claim), allow it with "
            "SOLBENCH_ALLOW = {'vendor-op': 'why'}")

"""Decisions taken before any input exists: the guard's static findings and the reasons to skip an item.

Pure functions of the settings, the device and a workload's facts; the pipeline keeps their per-process caches.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from pytest_solbench.data.dtypes import MIN_CAPABILITY, precision_of
from pytest_solbench.data.kernels import KernelSpec, missing_toolchain
from pytest_solbench.data.schema import Definition
from pytest_solbench.measure.device import DeviceInfo
from pytest_solbench.options import Settings
from pytest_solbench.sol.facts import WorkloadFacts


def skip_reason(settings: Settings, device: DeviceInfo, definition: Definition, kernel: KernelSpec,
                facts: WorkloadFacts) -> str | None:  # fmt: skip
    """Why this GPU (or CPU mode) cannot run the item, in the user's words; None when it can."""
    precision = precision_of(definition)
    if device.kind == "cuda" and precision in MIN_CAPABILITY and device.capability is not None:
        need = MIN_CAPABILITY[precision]
        if device.capability < need:
            return f"{precision.upper()} needs sm_{need[0]}{need[1]}+, this GPU is {device.sm}"
    missing = missing_toolchain(kernel, device.kind)
    if missing:
        return missing
    if device.kind == "cpu" and facts.largest_growing_elements > settings.cpu_max_elements:
        return (f"too large for CPU mode: a tensor of {facts.largest_growing_elements:,} elements exceeds "
                f"--solbench-cpu-max-elements {settings.cpu_max_elements:,}")  # fmt: skip
    gflop = facts.work.flops / 1e9 if facts.work is not None else 0.0
    if device.kind == "cpu" and gflop > settings.cpu_max_gflop:
        return (f"too large for CPU mode: {gflop:.3g} GFLOP exceeds --solbench-cpu-max-gflop "
                f"{settings.cpu_max_gflop:g}")  # fmt: skip
    if facts.missing_blob:
        return f"input blob {facts.missing_blob} is missing"
    return None


def static_findings(guard_mode: str, definition: Definition, kernel: KernelSpec) -> list[Any]:
    """The guard's static rules over a kernel's sources (``guard.rules.Finding`` each); none for the reference."""
    if guard_mode == "off" or kernel.is_reference:
        return []
    from pytest_solbench.guard import rules as guard
    from pytest_solbench.guard.bundle import kernel_bundle

    bundle = kernel_bundle(kernel)  # the kernel's file and every local module or package it imports, followed
    sources = bundle.sources
    solution = _solution_json(kernel)
    allowed = {} if guard_mode == "strict" else guard.allowances(sources, solution)
    dtypes = [s.dtype for s in (*definition.inputs, *definition.outputs)]
    return guard.scan_sources(sources, definition_name=definition.name, op_type=definition.op_type, allowed=allowed,
                              dtypes=dtypes, entry_point=kernel.entry_symbol, solution=solution,
                              local_modules=bundle.local_modules, found=bundle.findings)  # fmt: skip


def allowed_rules(guard_mode: str, kernel: KernelSpec) -> tuple[str, ...]:
    """The rules a kernel's written allowances cover (``SOLBENCH_ALLOW``; none under strict or for the reference):
    the judge's run-time checks of the same rules honour them too (``guard.dispatched``)."""
    if guard_mode != "on" or kernel.is_reference:
        return ()
    try:
        stamp = kernel.path.stat().st_mtime_ns
    except OSError:
        stamp = 0
    return _allowed(kernel, stamp)


@functools.lru_cache(maxsize=256)
def _allowed(kernel: KernelSpec, _stamp: int) -> tuple[str, ...]:
    from pytest_solbench.guard import rules as guard
    from pytest_solbench.guard.bundle import kernel_bundle

    return tuple(sorted(guard.allowances(kernel_bundle(kernel).sources, _solution_json(kernel))))


def finding_message(findings: list[Any], guard_mode: str) -> tuple[str, str]:
    """The rule and the failure text of the first finding, with how to allow it where allowing is possible."""
    first = findings[0]
    more = f" (and {len(findings) - 1} more finding(s))" if len(findings) > 1 else ""
    allow = "" if guard_mode == "strict" else (
        f"; if it is honest, allow it with SOLBENCH_ALLOW = {{{first.rule!r}: 'why'}}")  # fmt: skip
    return first.rule, f"{first.path}:{first.line}: {first.message}{more}{allow}"


def _solution_json(kernel: KernelSpec) -> dict[str, Any] | None:
    if kernel.path.suffix != ".json":
        return None
    try:
        data = json.loads(kernel.path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None

"""An item's figures on its record, each computed once, at the clock it is finally used at.

The SOL bound is worked out once per item: at the highest SM clock read around the timed phase when the kernel
was timed (a bound must hold at every clock it may have run at), at the hardware row's own clock otherwise.
T_k is recomputed from the raw samples, never taken from the worker's summary.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pytest_solbench.record import ItemResult
from pytest_solbench.sol import facts as facts_mod
from pytest_solbench.sol import scoring
from pytest_solbench.sol.facts import WorkloadFacts
from pytest_solbench.sol.hardware import Hardware

PROVISIONAL = ("bytes provisional: the reference's reads follow the data (indices, offsets) and were not seen on "
               "real inputs, so every input counts whole\n")  # fmt: skip


def with_bound(record: ItemResult, facts: WorkloadFacts, hardware: Hardware,
               sm_clock_mhz: float | None = None) -> ItemResult:  # fmt: skip
    """T_SOL, its limiter, the FLOPs and bytes behind it; the record unchanged when the work is unknown."""
    bound = facts_mod.bound(facts, hardware, sm_clock_mhz)
    if bound is None:
        return record
    return replace(record, t_sol_ms=bound.t_sol_ms, bound=bound.bound, flops_by_dtype=dict(bound.flops_by_dtype),
                   bytes_moved=bound.bytes_moved, sol_sm_clock_mhz=sm_clock_mhz)  # fmt: skip


def median_ms(timing: dict[str, Any]) -> float:
    """The headline time of a worker's measurement, from its raw samples."""
    from pytest_solbench.measure.samples import summarize

    return summarize(timing["samples_ms"], timing["method"]).median_ms


def highest_sm_clock(timing: dict[str, Any]) -> float | None:
    """The highest SM clock read around a timed phase (a reading taken as power draw peaks is the lowest)."""
    readings = [(timing.get(k) or {}).get("sm_clock_mhz") for k in ("clocks_before", "clocks_after")]
    return max((r for r in readings if r), default=None)


def scored(record: ItemResult, facts: WorkloadFacts, hardware: Hardware, datasheet: Hardware, timing: dict[str, Any],
           t_k: float, t_b: float | None) -> ItemResult:  # fmt: skip
    """A timed record with T_k, T_b, its bound at the clock seen, the physical floor (from the datasheet: a good
    kernel can beat a measured ceiling), %SOL, speedup and the SOL Score."""
    record = replace(record, kernel_timing=timing, t_k_ms=t_k, t_b_ms=t_b)
    if facts.work is None:
        return replace(record, speedup=scoring.figures(t_k, t_b, None).speedup)
    sm_clock = highest_sm_clock(timing)
    record = with_bound(record, facts, hardware, sm_clock)
    shown = scoring.figures(t_k, t_b, record.t_sol_ms)
    return replace(record, floor_ms=facts_mod.floor_ms(facts, datasheet, sm_clock), pct_sol=shown.pct_sol,
                   speedup=shown.speedup, score=shown.score,
                   log=record.log + (f"{shown.note}\n" if shown.note else "") + (PROVISIONAL if facts.bytes_provisional
                                                                                 else ""))  # fmt: skip


def placed(record: ItemResult, device: dict[str, Any], node: str, hardware: Hardware, session_gpu: str,
           named: bool) -> tuple[ItemResult, Hardware]:  # fmt: skip
    """A record whose call a runner placed on a machine (Ray): the GPU model and node in its environment, and the
    hardware row its figures use: that GPU's own, unless it is the session's GPU or ``named`` (the user chose the
    row with --solbench-hardware); an unknown GPU keeps ``hardware``."""
    record = replace(record, environment={**record.environment, "hardware": device["name"], "node": node})
    if device["kind"] == "cuda" and not named and device["name"] != session_gpu:
        from pytest_solbench.sol.hardware import identify

        hardware = identify(device["name"], device.get("memory_bytes"), device.get("sm_count")) or hardware
    return replace(record, hardware=hardware.key), hardware

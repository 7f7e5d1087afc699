"""Where a kernel would pay off most: the written problems ranked by their share of the model's op time, with the
speed-of-light time of their calls and the headroom to it where the bound is known, as ``capture.md``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pytest_solbench.captures.problems import Family
from pytest_solbench.captures.recorder import CUDA_EVENTS, Counted, Recording
from pytest_solbench.data.trace import Problem
from pytest_solbench.sol.hardware import Hardware


@dataclass(frozen=True)
class Row:
    """One written problem in the ranking."""

    rank: int
    name: str
    op: str
    calls: int
    time_ms: float
    share: float  # of the whole op time the capture measured, 0..1
    workloads: int
    sol_ms: float | None  # sum over its calls of T_SOL on the hardware row; None: no row or no bound
    headroom_ms: float | None  # time_ms - sol_ms, where the times were measured on that GPU


def sol_ms(problem: Problem, family: Family, hardware: Hardware) -> float | None:
    """The speed-of-light time of every call of a family, from the problem as written (so as the plugin reads it);
    None where FLOPs cannot be counted on meta tensors."""
    from pytest_solbench.sol.bound import sol_bound, work_for

    counts = {tuple(sorted(w.axes.items())): w.counted.calls for w in family.workloads}
    total = 0.0
    for workload in problem.workloads:
        try:
            work = work_for(problem.definition, problem.definition.axis_values(workload.axes))
        except Exception:  # a reference FLOP counting cannot run on meta tensors: no bound, no headroom
            return None
        total += counts[tuple(sorted(workload.axes.items()))] * sol_bound(work, hardware).t_sol_ms
    return total


def rank(families: list[Family], recording: Recording, sols: dict[str, float | None], timed_on_row: bool) -> list[Row]:
    """Rows by time spent, most first (ties: more calls first, then by name)."""
    total = recording.total_ms or 1.0
    ordered = sorted(families, key=lambda f: (-f.time_ms, -f.calls, f.name))
    rows = []
    for i, family in enumerate(ordered, start=1):
        sol = sols.get(family.name)
        headroom = family.time_ms - sol if sol is not None and timed_on_row else None
        rows.append(Row(i, family.name, family.call.kind, family.calls, family.time_ms, family.time_ms / total,
                        len(family.workloads), sol, headroom))  # fmt: skip
    return rows


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def markdown(rows: list[Row], recording: Recording, model: str, root: Path, hardware: Hardware | None,
             timed_on_row: bool, left_out: dict[tuple[str, str], Counted]) -> str:  # fmt: skip
    """The ranking as ``capture.md``: what to write a kernel for first, and what was not written and why."""
    where = f"on {recording.cuda_device}" if recording.clock == CUDA_EVENTS else "on CPU"
    total = recording.total_ms
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Problems captured from {model}",
        "",
        f"Captured {when} {where}. Time: {recording.clock}; {total:.4g} ms over all ops in the capture.",
    ]
    if hardware is not None:
        lines.append(f"T_SOL: every call of the problem at its speed of light on {hardware.name} (`{hardware.key}`)"
                     + ("; headroom: measured time minus T_SOL, what a kernel at SOL would save." if timed_on_row else
                        "; no headroom: the times were not measured on that GPU."))  # fmt: skip
    lines += ["", "| rank | problem | op | calls | workloads | time ms | share | T_SOL ms | headroom ms |",
              "|---:|---|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        lines.append(f"| {r.rank} | `{r.name}` | {r.op} | {r.calls} | {r.workloads} | {r.time_ms:.4g} | "
                     f"{r.share:.1%} | {_ms(r.sol_ms)} | {_ms(r.headroom_ms)} |")  # fmt: skip
    other = recording.other
    lines.append(f"| | other ops (views, copies, element-wise) | | {other.calls} | | {other.time_ms:.4g} | "
                 f"{other.time_ms / (total or 1.0):.1%} | | |")  # fmt: skip
    if left_out:
        lines += ["", "Left out (not written as problems):", ""]
        for (op, why), counted in left_out.items():
            lines.append(f"- `{op}`, {counted.calls} call(s), {counted.time_ms:.4g} ms: {why}")
    lines += ["", f"Run them: `pytest --solbench --solbench-problems {root}`", ""]
    return "\n".join(lines)

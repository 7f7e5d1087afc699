"""The terminal summary: the table of results, the bounds-only table, measured ceilings (trace lines: ``traces``)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pytest_solbench.record import ItemResult
from pytest_solbench.sol.scoring import problem_scores, suite_score


# ---------------------------------------------------------------- terminal table


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 0.001:
        return f"{value * 1e6:.3g}ns"
    if value < 1:
        return f"{value * 1000:.3g}us"
    return f"{value:.4g}ms"


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


COLUMNS = ("workload", "kernel", "status", "T_k", "T_b", "T_SOL", "bound", "%SOL", "score")


def table_rows(results: list[ItemResult]) -> list[tuple[str, ...]]:
    return [
        (
            r.workload_label,
            r.kernel,
            r.status,
            _ms(r.t_k_ms),
            _ms(r.t_b_ms),
            _ms(r.t_sol_ms),
            r.bound or "-",
            "-" if r.pct_sol is None else f"{100 * r.pct_sol:.1f}%",
            _num(r.score, ".3f"),
        )
        for r in results
    ]


def format_table(results: list[ItemResult], width: int = 200) -> list[str]:
    """One block per problem (its rows, then each kernel's mean score), then the suite score (pure).

    Untimed (CPU mode) the timing columns, all empty, are left out."""
    timed = not all(r.device == "cpu" and r.t_k_ms is None for r in results)
    keep = range(len(COLUMNS)) if timed else [i for i, c in enumerate(COLUMNS) if c not in ("T_k", "T_b", "%SOL", "score")]
    rows = [tuple(row[i] for i in keep) for row in (COLUMNS, *table_rows(results))]
    header = rows[0]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    # Workload labels and kernel names are what overflow: shave the wider of them until the table fits.
    overflow = sum(widths) + 2 * (len(widths) - 1) + 2 - width
    while overflow > 0 and max(widths[0], widths[1]) > 16:
        widths[0 if widths[0] >= widths[1] else 1] -= 1
        overflow -= 1

    left = {"workload", "kernel", "status", "bound"}

    def line(row: tuple[str, ...]) -> str:
        cells = [_fit(cell, w) for cell, w in zip(row, widths)]
        return "  " + "  ".join(c.ljust(w) if name in left else c.rjust(w) for name, c, w in zip(header, cells, widths)).rstrip()

    scores = problem_scores(results)
    lines: list[str] = []
    by_problem: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for result, row in zip(results, rows[1:]):
        by_problem[result.problem].append(row)
    for problem, problem_rows in by_problem.items():
        lines += ["", problem, line(header), *map(line, problem_rows)]
        if timed:
            means = [f"{kernel} {_num(score, '.3f') if score is not None else 'n/a'}"
                     for (p, kernel), score in scores.items() if p == problem]  # fmt: skip
            lines.append(f"  mean SOL Score (failed workloads count 0): {', '.join(means)}")
    lines.append("")
    if not timed:
        lines.append("no SOL Scores: CPU mode checks correctness and computes bounds; timing and scores need a GPU")
    else:
        suite = suite_score(results)
        shown = _num(suite, ".3f") if suite is not None else "n/a (not timed)"
        lines.append(f"suite SOL Score (best kernel per problem, {len(by_problem)} problems): {shown}")
    import textwrap

    lines += textwrap.wrap(LEGEND if timed else LEGEND_UNTIMED, width=max(40, width - 2))
    return lines[1:]  # no blank line under the section title


LEGEND = ("T_k: kernel median; T_b: baseline median; T_SOL: speed-of-light time (max of FLOPs/peak, bytes/DRAM "
          "bandwidth); bound: which term; %SOL: T_SOL/T_k; score: (T_b-T_SOL)/(T_k+T_b-2 T_SOL), 0.5 = baseline, "
          "1 = SOL")  # fmt: skip
LEGEND_UNTIMED = ("T_SOL: speed-of-light time (max of FLOPs/peak, bytes/DRAM bandwidth) on the hardware row; bound: "
                  "which term")  # fmt: skip


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def format_bounds(results: list[ItemResult], hardware_name: str) -> list[str]:
    """The bound-only table: what each workload must do and the time no kernel can beat on ``hardware_name``."""
    header = ("problem", "workload", "GFLOP", "MB moved", "FLOP/B", "bound", "T_SOL")
    rows = [header]
    for r in results:
        flops = sum(r.flops_by_dtype.values()) if r.flops_by_dtype else 0.0
        moved = r.bytes_moved or 0.0
        rows.append(
            (
                r.problem,
                r.workload_label,
                f"{flops / 1e9:.3f}",
                f"{moved / 1e6:.3f}",
                f"{flops / moved:.1f}" if moved else "-",
                r.bound or "-",
                _ms(r.t_sol_ms),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [f"speed-of-light bounds on {hardware_name}:"]
    for row in rows:
        lines.append("  ".join(c.ljust(w) if i < 2 or i == 5 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    lines.insert(2, "-" * len(lines[1]))
    return lines


def format_ceilings(measured: dict[str, Any]) -> list[str]:
    """Measured ceilings beside the datasheet's (``--solbench-ceilings measured``)."""
    sheet = measured.get("datasheet", {})
    lines = [f"ceilings measured on {measured.get('device_name', 'this GPU')} (bounds above use them):"]
    bw, bw_sheet = measured.get("dram_bandwidth_gb_s"), sheet.get("dram_bandwidth_gb_s")
    if bw:
        lines.append(f"  DRAM bandwidth  {bw / 1000:7.2f} TB/s measured, {bw_sheet / 1000:7.2f} TB/s datasheet "
                     f"({bw / bw_sheet:.0%})")  # fmt: skip
    for key, value in sorted((measured.get("peak_tflops") or {}).items()):
        ref = (sheet.get("peak_tflops") or {}).get(key)
        ratio = f" ({value / ref:.0%})" if ref else ""
        lines.append(f"  {key:<6} GEMM     {value:7.1f} TFLOP/s measured, {ref or float('nan'):7.1f} datasheet{ratio}")
    for key, why in sorted((measured.get("errors") or {}).items()):
        lines.append(f"  {key:<6} GEMM     not measured: {why}")
    return lines

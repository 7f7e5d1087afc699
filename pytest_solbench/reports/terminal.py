"""The terminal summary: the table of results, the bounds-only table, measured ceilings (trace lines: ``traces``)."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from pytest_solbench.record import ItemResult
from pytest_solbench.sol.scoring import problem_scores, suite_score, untimed


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


def _samples(r: ItemResult) -> Any:
    """The kernel's timing summary recomputed from its raw samples (None when untimed)."""
    samples = (r.kernel_timing or {}).get("samples_ms")
    if not samples:
        return None
    from pytest_solbench.measure.timing import summarize

    return summarize(samples, "wall")


def _stat(name: str) -> Any:
    return lambda r: None if _samples(r) is None else getattr(_samples(r), name)


def _iqr(r: ItemResult) -> float | None:
    m = _samples(r)
    return None if m is None else m.q3_ms - m.q1_ms


#: Every column the summary can show (``--solbench-columns``): its header, the value it sorts by (None: last),
#: and how the value is written. ``workload`` always comes first.
COLUMN_SPECS: dict[str, tuple[str, Any, Any]] = {
    "workload": ("workload", lambda r: r.workload_label, str),
    "kernel": ("kernel", lambda r: r.kernel, str),
    "status": ("status", lambda r: r.status, str),
    "median": ("T_k", lambda r: r.t_k_ms, _ms),
    "min": ("min", _stat("min_ms"), _ms),
    "mean": ("mean", _stat("mean_ms"), _ms),
    "stdev": ("stdev", _stat("stdev_ms"), _ms),
    "iqr": ("IQR", _iqr, _ms),
    "n": ("n", _stat("n"), lambda v: "-" if v is None else str(v)),
    "t_b": ("T_b", lambda r: r.t_b_ms, _ms),
    "t_sol": ("T_SOL", lambda r: r.t_sol_ms, _ms),
    "bound": ("bound", lambda r: r.bound, lambda v: v or "-"),
    "pct_sol": ("%SOL", lambda r: r.pct_sol, lambda v: "-" if v is None else f"{100 * v:.1f}%"),
    "speedup": ("speedup", lambda r: r.speedup, lambda v: _num(v, ".2f")),
    "score": ("score", lambda r: r.score, lambda v: _num(v, ".3f")),
}
ALIASES = {"t_k": "median", "%sol": "pct_sol", "spread": "iqr"}
DEFAULT_COLUMNS = ("workload", "kernel", "status", "median", "t_b", "t_sol", "bound", "pct_sol", "score")
UNTIMED = {"median", "min", "mean", "stdev", "iqr", "n", "t_b", "pct_sol", "speedup", "score"}
#: Sorted best first: higher is better for these; lower for times.
DESCENDING = {"score", "pct_sol", "speedup", "n"}


def column_key(word: str) -> str:
    """A column or sort key as the user wrote it (``T_k``, ``%SOL``, ``spread``), or ValueError naming the known."""
    key = word.strip().lower()
    key = ALIASES.get(key, key)
    if key not in COLUMN_SPECS:
        raise ValueError(f"unknown column {word!r}: choose from {', '.join(COLUMN_SPECS)} (T_k is median, %SOL "
                         "pct_sol, spread iqr)")  # fmt: skip
    return key


def table_rows(results: list[ItemResult], columns: tuple[str, ...] = DEFAULT_COLUMNS) -> list[tuple[str, ...]]:
    return [tuple(COLUMN_SPECS[c][2](COLUMN_SPECS[c][1](r)) for c in columns) for r in results]


def sort_results(results: list[ItemResult], key: str) -> list[ItemResult]:
    """Within each problem, by ``key``: best first for scores, fastest first for times, missing values last
    (the order of ``results`` is kept between equals and for ``workload``)."""
    if key == "workload":
        return list(results)
    value = COLUMN_SPECS[key][1]
    sign = -1 if key in DESCENDING else 1

    def order(r: ItemResult) -> tuple:
        v = value(r)
        return (v is None, 0 if v is None else (sign * v if isinstance(v, (int, float)) else str(v)))

    problems = list(dict.fromkeys(r.problem for r in results))
    return [r for p in problems for r in sorted((r for r in results if r.problem == p), key=order)]


def format_table(results: list[ItemResult], width: int = 200, columns: tuple[str, ...] = DEFAULT_COLUMNS,
                 sort: str = "workload") -> list[str]:  # fmt: skip
    """One block per problem (its rows, then each kernel's mean score), then the suite score (pure).

    Untimed (CPU mode) the timing columns, all empty, are left out. A workload label or kernel name too long for
    the width wraps onto lines of its own (at its ``-`` separators), never cut."""
    timed = not untimed(results)
    columns = ("workload", *(c for c in columns or DEFAULT_COLUMNS if c != "workload" and (timed or c not in UNTIMED)))
    results = sort_results(results, sort)
    header = tuple(COLUMN_SPECS[c][0] for c in columns)
    rows = [header, *table_rows(results, columns)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    # Workload labels and kernel names are what overflow: narrow the wider of them (it wraps) until the table fits.
    # Each keeps room for its longest ``-``-separated part (up to 16), so a label breaks between its axes.
    floors = {i: max(len(h), min(16, max((len(p) for row in rows[1:] for p in re.findall(r"[^-]+-?|-", row[i])), default=0)))
              for i, h in enumerate(header) if columns[i] in ("workload", "kernel")}  # fmt: skip
    overflow = sum(widths) + 2 * (len(widths) - 1) + 2 - width
    while overflow > 0 and any(widths[i] > floor for i, floor in floors.items()):
        widest = max((i for i in floors if widths[i] > floors[i]), key=lambda i: widths[i])
        widths[widest] -= 1
        overflow -= 1

    left = {"workload", "kernel", "status", "bound"}

    def lines_of(row: tuple[str, ...]) -> list[str]:
        pieces = [_wrap(cell, w) for cell, w in zip(row, widths)]
        out = []
        for depth in range(max(map(len, pieces))):
            cells = [p[depth] if depth < len(p) else "" for p in pieces]
            out.append("  " + "  ".join(c.ljust(w) if c_ in left else c.rjust(w)
                                        for c_, c, w in zip(columns, cells, widths)).rstrip())  # fmt: skip
        return out

    scores = problem_scores(results)
    lines: list[str] = []
    by_problem: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for result, row in zip(results, rows[1:]):
        by_problem[result.problem].append(row)
    for problem, problem_rows in by_problem.items():
        lines += ["", problem, *lines_of(header), *(line for row in problem_rows for line in lines_of(row))]
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


def _wrap(text: str, width: int, separators: str = "-_") -> list[str]:
    """``text`` in lines of at most ``width``, broken after its ``-`` separators where it can, then after ``_``,
    else anywhere; every character kept."""
    if len(text) <= width:
        return [text]
    if not separators:
        return [text[i:i + width] for i in range(0, len(text), width)]
    sep = re.escape(separators[0])
    lines, line = [], ""
    for part in re.findall(f"[^{sep}]+{sep}?|{sep}", text):
        if len(line) + len(part) > width and line:
            lines.append(line)
            line = ""
        if len(part) > width:  # one part longer than a line: break it at the next separator
            *whole, line = _wrap(part, width, separators[1:])
            lines += whole
        else:
            line += part
    return [*lines, line] if line else lines


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

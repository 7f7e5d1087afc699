"""A self-contained HTML report: one file, inline CSS and SVG, nothing fetched from anywhere."""

from __future__ import annotations

import datetime as _dt
from html import escape
from pathlib import Path
from typing import Any, Mapping, Sequence

from pytest_solbench.reports import compare as cmp
from pytest_solbench.sol.hardware import Hardware
from pytest_solbench.reports.markdown import header_rows, problem_blocks, suite_line, verdict
from pytest_solbench.record import ItemResult
from pytest_solbench.reports.terminal import COLUMNS
from pytest_solbench.reports.roofline import build_roofline, roofline_svg

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1em; margin: 1.2em 0 .3em; font-family: ui-monospace, monospace; }
table { border-collapse: collapse; margin: .4em 0; font-variant-numeric: tabular-nums; }
th, td { padding: .2em .7em; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
th { background: #f5f5f5; } td.l, th.l { text-align: left; }
.verdict { padding: .5em .8em; border-radius: 4px; font-weight: 600; }
.fail { background: #fde2e1; color: #8a1c17; } .ok { background: #e3f4e1; color: #1f5f1a; }
.warn { background: #fff4d6; color: #6b4e00; } .mean { color: #555; margin: .2em 0 1em; }
.roofline text { fill: #333; font-family: system-ui, sans-serif; }
"""

_FAIL_CLASS = {cmp.SLOWER: "fail", cmp.BROKEN: "fail", cmp.FASTER: "ok", cmp.FIXED: "ok", cmp.UNCLEAR: "warn"}


def render_html(
    records: list[ItemResult],
    comparison: cmp.ComparisonReport | None = None,
    header: Mapping[str, Any] | None = None,
    hardware: Hardware | str | None = None,
    unfinished: Sequence[str] = (),
    errors: Sequence[str] = (),
) -> str:
    """The whole report as one HTML page. The roofline uses ``hardware`` (a row or key), else the header's
    ``hardware`` entry, else the records' hardware row."""
    header = dict(header or {})
    failed, words = verdict(records, comparison, unfinished)
    body = ["<h1>pytest-solbench</h1>",
            f'<p class="verdict {"fail" if failed else "ok"}">{"FAILED" if failed else "passed"}: {escape(words)}</p>',
            _table(("", ""), [(label, value) for label, value in header_rows(header)], header_row=False)]  # fmt: skip
    if errors:  # what failed the run besides its items (markdown.render_markdown)
        body.append("<ul>" + "".join(f'<li class="fail">{escape(e)}</li>' for e in errors) + "</ul>")
    body += ["<h2>Results</h2>", *_results(records)]
    if comparison is not None:
        body += ["<h2>Comparison</h2>", f"<p>{escape(comparison.summary())}. An item is SLOWER only when the whole "
                 "interval of new/old lies above the threshold.</p>", _comparison(comparison)]  # fmt: skip
    body += ["<h2>Roofline</h2>", _roofline(records, hardware or header.get("hardware") or _first_hardware(records))]
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body.append(f'<p class="mean">written {stamp}</p>')
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>pytest-solbench report</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")  # fmt: skip


def write_html(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _first_hardware(records: list[ItemResult]) -> str | None:
    return next((r.hardware for r in records if r.hardware), None)


def _results(records: list[ItemResult]) -> list[str]:
    blocks = problem_blocks(records)
    out: list[str] = []
    for block in blocks:
        out.append(f"<h3>{escape(block.problem)}</h3>")
        classes = ["fail" if r.failed else "" for r in block.records]
        out.append(_table(COLUMNS, list(block.rows), row_classes=classes, status_column=COLUMNS.index("status")))
        out.append(f'<p class="mean">mean SOL Score (failed workloads count 0): {escape(block.means or "n/a")}</p>')
    out.append(f"<p><b>Suite SOL Score</b>: {escape(suite_line(records, blocks))}</p>")
    return out


def _comparison(report: cmp.ComparisonReport) -> str:
    rows = cmp.comparison_rows(report)
    classes = [_FAIL_CLASS.get(row[-1].split()[0], "") for row in rows]
    return _table(cmp.COLUMNS, rows, row_classes=classes, status_column=len(cmp.COLUMNS) - 1)


def _roofline(records: list[ItemResult], hardware: Hardware | str | None) -> str:
    if hardware is None:
        return "<p>No roofline: no hardware row is known for this run.</p>"
    try:
        plot = build_roofline(records, hardware)
    except KeyError as exc:
        return f"<p>No roofline: {escape(str(exc.args[0]))}.</p>"
    note = ("<p class=\"mean\">Each timed workload is a point coloured by its SOL Score (red 0, green 1); hover for "
            "its name. Workloads without FLOPs sit as diamonds in the left column, at the height of their achieved "
            "bandwidth on the DRAM roof's scale.</p>")  # fmt: skip
    return roofline_svg(plot) + "\n" + note


def _table(
    header: tuple[str, ...],
    rows: list[tuple[str, ...]],
    row_classes: list[str] | None = None,
    status_column: int | None = None,
    header_row: bool = True,
) -> str:
    left = {"workload", "kernel", "status", "bound", "problem", "verdict", ""}
    align = ['l' if name in left else '' for name in header]
    out = ["<table>"]
    if header_row:
        out.append("<tr>" + "".join(f'<th class="{a}">{escape(h)}</th>' for h, a in zip(header, align)) + "</tr>")
    for i, row in enumerate(rows):
        cells = []
        for j, (cell, a) in enumerate(zip(row, align)):
            cls = f"{a} {row_classes[i]}" if row_classes and j == status_column and row_classes[i] else a
            cells.append(f'<td class="{cls.strip()}">{escape(cell)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)

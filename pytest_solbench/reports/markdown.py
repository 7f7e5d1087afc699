"""The run as Markdown, fit for a pull-request comment or a GitHub Actions job summary."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from pytest_solbench.reports import compare as cmp
from pytest_solbench.record import ItemResult
from pytest_solbench.reports.terminal import COLUMNS, table_rows
from pytest_solbench.sol.scoring import problem_scores, suite_score

#: The results columns a pull request shows (the terminal table adds the bound).
SHOWN = ("workload", "kernel", "status", "T_k", "T_b", "T_SOL", "%SOL", "score")
#: Header keys in the order they are shown, with their labels; other keys follow under their own names.
HEADER = (("device", "device"), ("driver", "driver"), ("hardware", "hardware row"), ("clocks", "clocks"),
          ("timer", "timer"), ("isolation", "isolation"), ("commit", "commit"))  # fmt: skip


def render_markdown(
    records: list[ItemResult], comparison: cmp.ComparisonReport | None = None, header: Mapping[str, Any] | None = None,
    unfinished: Sequence[str] = (), errors: Sequence[str] = (),
) -> str:
    """Verdict line, header table, failures, a collapsible table per problem, the suite score, the comparison.
    ``unfinished``: what failed the run besides its items, in a few words each (``2 files could not be collected``,
    ``interrupted``), which fail the verdict as they fail pytest's exit status; ``errors``: their details, listed
    first under the failures."""
    header = dict(header or {})
    failures = [r for r in records if r.failed]
    slower = list(comparison.failed) if comparison else []
    failed, words = verdict(records, comparison, unfinished)
    lines = ["## pytest-solbench", "", f"{'**FAILED**' if failed else '**passed**'}: {words}", ""]
    lines += _table(("", ""), [(f"**{label}**", value) for label, value in header_rows(header)])
    if failures or slower or errors:
        lines += ["", "### Failures", ""]
        lines += [f"- {line}" for line in errors]
        lines += [f"- {_item(r)}: **{r.status}** {_first_line(r.log)}".rstrip() for r in failures]
        failed_keys = {cmp.key_of(r) for r in failures}
        if comparison is not None:
            lines += [f"- {_item(c)}: {cmp.failure_message(c, comparison.baseline, comparison.max_regression)}"
                      for c in slower if c.key not in failed_keys]  # fmt: skip
    lines += ["", "### Results", ""]
    lines += _results(records)
    if comparison is not None:
        lines += ["", "### Comparison", ""] + _comparison(comparison)
    return "\n".join(lines) + "\n"


def verdict(records: list[ItemResult], comparison: cmp.ComparisonReport | None,
            unfinished: Sequence[str] = ()) -> tuple[bool, str]:  # fmt: skip
    """Whether the run failed, and in words: ``1 of 12 items failed; 1 slower than 'main'. Suite SOL Score 0.882.``
    A run with ``unfinished`` lines (a file not collected, an interruption) failed whatever its items did."""
    failed = sum(r.failed for r in records)
    slower = sum(c.verdict == cmp.SLOWER for c in comparison.items) if comparison else 0
    suite = suite_score(records)
    parts = [f"{failed} of {len(records)} items failed" if failed else f"{len(records)} items passed or skipped"]
    if unfinished:
        parts.append("; ".join(unfinished))
    if comparison is not None:
        parts.append(f"{slower or 'none'} slower than {comparison.baseline}")
    score = f" Suite SOL Score {suite:.3f}." if suite is not None else ""
    return bool(failed or slower or unfinished), f"{'; '.join(parts)}.{score}"


def append_step_summary(text: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """Append ``text`` to the GitHub Actions job summary when ``$GITHUB_STEP_SUMMARY`` names one; else do nothing."""
    target = (os.environ if environ is None else environ).get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as out:
        out.write(text if text.endswith("\n") else text + "\n")
    return path


def write_markdown(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- parts


def header_rows(header: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) for each header entry given: the known keys in their order, then the others."""
    keys = [(k, label) for k, label in HEADER if header.get(k) not in (None, "")]
    keys += [(k, k) for k in header if k not in dict(HEADER) and header[k] not in (None, "")]
    return [(label, _header_value(key, header[key])) for key, label in keys]


def _header_value(key: str, value: Any) -> str:
    if key == "hardware":
        return hardware_summary(str(value))
    if key == "commit":
        return str(value)[:12]
    return str(value)


def hardware_summary(key: str) -> str:
    """``h100_sxm (NVIDIA H100 SXM): DRAM 3350 GB/s; TFLOP/s fp8 1979, bf16 989, ...``, or the key if unknown."""
    from pytest_solbench.sol.hardware import lookup

    try:
        row = lookup(key)
    except KeyError:
        return key
    peaks = ", ".join(f"{k} {v:g}" for k, v in row.peak_tflops.items())
    return f"{row.key} ({row.name}): DRAM {row.dram_bandwidth_gb_s:g} GB/s; dense TFLOP/s {peaks}"


@dataclass(frozen=True)
class ProblemBlock:
    """One problem's rows of the results table, its kernels' mean scores in words, and whether any item failed."""

    problem: str
    records: tuple[ItemResult, ...]
    rows: tuple[tuple[str, ...], ...]  # report.COLUMNS
    means: str  # "triton_rmsnorm 0.946, reference 0.500"
    failing: bool


def problem_blocks(records: list[ItemResult]) -> list[ProblemBlock]:
    """The results grouped by problem, in the order problems first appear (the Markdown and HTML tables)."""
    scores = problem_scores(records)
    groups: dict[str, list[tuple[ItemResult, tuple[str, ...]]]] = defaultdict(list)
    for record, row in zip(records, table_rows(records)):
        groups[record.problem].append((record, row))
    blocks = []
    for problem, pairs in groups.items():
        means = ", ".join(f"{kernel} {score:.3f}" if score is not None else f"{kernel} n/a"
                          for (p, kernel), score in scores.items() if p == problem)  # fmt: skip
        failing = any(r.failed for r, _ in pairs)
        blocks.append(ProblemBlock(problem, tuple(r for r, _ in pairs), tuple(row for _, row in pairs), means, failing))
    return blocks


def suite_line(records: list[ItemResult], blocks: list[ProblemBlock]) -> str:
    suite = suite_score(records)
    shown = f"{suite:.3f}" if suite is not None else "n/a (not timed)"
    return (f"{shown} (best kernel per problem, {len(blocks)} problems; a failed workload counts 0). "
            "T_k kernel, T_b baseline, T_SOL speed-of-light time; %SOL = T_SOL / T_k.")


def _results(records: list[ItemResult]) -> list[str]:
    keep = [COLUMNS.index(c) for c in SHOWN]
    blocks = problem_blocks(records)
    lines: list[str] = []
    for block in blocks:
        lines += [f"<details{' open' if block.failing else ''}><summary><code>{block.problem}</code>: mean SOL Score "
                  f"{block.means or 'n/a'}</summary>", ""]  # fmt: skip
        lines += _table(SHOWN, [tuple(row[i] for i in keep) for row in block.rows])
        lines += ["", "</details>", ""]
    lines.append(f"**Suite SOL Score**: {suite_line(records, blocks)}")
    return lines


def _comparison(report: cmp.ComparisonReport) -> list[str]:
    rows = cmp.comparison_rows(report)
    same = [row for row in rows if row[-1].split()[0] == cmp.SAME]
    rest = [row for row in rows if row[-1].split()[0] != cmp.SAME]
    lines = [report.summary() + ". An item is SLOWER only when the whole interval of new/old lies above the "
             "threshold.", ""]  # fmt: skip
    if rest:
        lines += _table(cmp.COLUMNS, rest)
    if same:
        lines += ["", f"<details><summary>{len(same)} items the SAME</summary>", ""]
        lines += _table(cmp.COLUMNS, same) + ["", "</details>"]
    return lines


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    if not rows:
        return []
    return [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "|" + "".join("---|" if h in _LEFT else "---:|" for h in header),
        *("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows),
    ]


_LEFT = {"", "workload", "kernel", "status", "problem", "verdict"}


def _item(item: ItemResult | cmp.Comparison) -> str:
    return f"`{item.problem}` · `{item.workload_label}` · `{item.kernel}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _first_line(log: str) -> str:
    line = next((line.strip() for line in log.splitlines() if line.strip()), "")
    return _cell(line[:200] + ("…" if len(line) > 200 else ""))

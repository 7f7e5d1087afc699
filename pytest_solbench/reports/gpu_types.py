"""Scores kept per GPU model, for runs whose items ran on more than one kind of GPU (a Ray cluster).

An item's GPU is its record's ``environment["hardware"]`` (the device its worker saw; FlashInfer Trace's own field).
Scores of different GPU models are never averaged together: each model's items are scored against its own
baseline and its own T_SOL, so each gets its suite score (pure: no pytest, no GPU).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from pytest_solbench.protocol import Status
from pytest_solbench.record import ItemResult
from pytest_solbench.sol.scoring import suite_score


def by_gpu(results: Iterable[ItemResult]) -> dict[str, list[ItemResult]]:
    """The records that ran (skipped ones left out), grouped by the GPU model each ran on, in order of appearance."""
    groups: dict[str, list[ItemResult]] = defaultdict(list)
    for result in results:
        if result.status is not Status.SKIPPED:
            groups[str(result.environment.get("hardware") or result.device)].append(result)
    return dict(groups)


def format_by_gpu(results: Iterable[ItemResult]) -> list[str]:
    """One line per GPU model: items, passed, nodes, and the suite score of its items alone."""
    lines = []
    for gpu, group in by_gpu(results).items():
        passed = sum(r.passed for r in group)
        nodes = {r.environment.get("node") for r in group} - {None}
        score = suite_score(group) if any(r.score is not None for r in group) else None
        shown = f"suite score {score:.3f}" if score is not None else "no SOL Score (untimed)"
        where = f" on {len(nodes)} node(s)" if nodes else ""
        lines.append(f"  {gpu}: {len(group)} items{where}, {passed} passed; {shown}")
    return ["scores per GPU model (each against its own baseline and T_SOL):", *lines] if lines else []

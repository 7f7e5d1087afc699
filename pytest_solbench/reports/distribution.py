"""The samples' distribution: one box per timed item (median, quartiles, whiskers, outliers) on a log time axis,
as pytest-benchmark's histogram shows its rounds. Through matplotlib (``pip install 'pytest-solbench[plot]'``)."""

from __future__ import annotations

from pathlib import Path

from pytest_solbench.record import ItemResult


def timed_samples(records: list[ItemResult] | tuple[ItemResult, ...]) -> list[tuple[str, list[float]]]:
    """(label, samples in ms) of every record with raw samples, in the order given."""
    out = []
    for r in records:
        samples = (r.kernel_timing or {}).get("samples_ms")
        if samples:
            out.append((f"{r.problem} {r.workload_label} [{r.kernel}]", [float(x) for x in samples]))
    return out


def write_distribution(records: list[ItemResult] | tuple[ItemResult, ...], path: Path, title: str = "") -> int:
    """Write the plot to ``path`` (.svg or .png); returns how many items it shows. RuntimeError without
    matplotlib or without any timed item, naming what to do."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise RuntimeError(f"{path}: plotting the samples needs matplotlib: pip install 'pytest-solbench[plot]'") from None
    shown = timed_samples(records)
    if not shown:
        raise RuntimeError(f"{path}: no item has timing samples to plot (CPU mode times nothing; timing needs a GPU)")
    fig = Figure(figsize=(9, 1.2 + 0.32 * len(shown)), dpi=120, layout="constrained")
    ax = fig.add_subplot()
    ax.boxplot([s for _, s in shown], orientation="horizontal", tick_labels=[label for label, _ in shown],
               showfliers=True, flierprops={"markersize": 2})  # fmt: skip
    ax.set_xscale("log")
    ax.invert_yaxis()  # the first item on top, as in the summary
    ax.set_xlabel("time per call (ms, log scale)")
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(title or f"timing samples of {len(shown)} item(s): box = quartiles, line = median")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return len(shown)

"""Saved runs compared without rerunning anything, as ``pytest-benchmark compare`` does:

    solbench-compare                  # list the saved runs
    solbench-compare main pr-123      # compare two of them (names or paths): exit 1 on a confirmed slowdown
    solbench-compare main pr-123 --histogram samples.svg

(or ``python -m pytest_solbench.reports.saved``). The statistics are ``compare``'s, the files ``store``'s; the
store is found as pytest finds it (``--store`` else ``.solbench/runs`` at the git top-level).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pytest_solbench.record import ItemResult
from pytest_solbench.reports import compare, store


def find_run(root: Path, name_or_path: str) -> store.SavedRun:
    """A saved run by path, or by name under any machine's folder of ``root`` (a name saved on several machines
    must be given as a path: the message lists them)."""
    if name_or_path.endswith(".json") or "/" in name_or_path:
        return store.read_run(Path(name_or_path))
    found = sorted(Path(root).glob(f"*/{name_or_path}.json"))
    if not found:
        names = sorted({p.stem for p in Path(root).glob("*/*.json")})
        raise store.StoreError(f"{root}: no saved run named {name_or_path!r} (saved: {', '.join(names) or 'none'})")
    if len(found) > 1:
        raise store.StoreError(f"{root}: runs named {name_or_path!r} were saved on {len(found)} machines or clock "
                               f"states; pass one as a path: {', '.join(map(str, found))}")  # fmt: skip
    return store.read_run(found[0])


def list_runs(root: Path) -> list[str]:
    """One line per saved run, newest first: name, when, commit, items, machine."""
    runs = []
    for path in sorted(Path(root).glob("*/*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            run = store.read_run(path)
        except store.StoreError as exc:
            runs.append(f"  (unreadable) {exc}")
            continue
        gpu, clocks = run.machine.get("gpu", "?"), run.machine.get("clocks", "?")
        runs.append(f"  {run.label}: {len(run.records)} items; {gpu}, clocks {clocks}; {path}")
    return runs or [f"  none under {root} (save one with pytest --solbench --solbench-save NAME)"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="solbench-compare", description="Compare two saved pytest-solbench runs "
                                     "without rerunning them; with no run named, list the saved runs.")  # fmt: skip
    parser.add_argument("old", nargs="?", help="the baseline run: a name in the store or a path to its .json")
    parser.add_argument("new", nargs="?", help="the run to judge against it")
    parser.add_argument("--store", type=Path, default=None,
                        help="where runs are saved (default: .solbench/runs at the git top-level, else here)")
    parser.add_argument("--max-regression", type=float, default=0.05, metavar="X",
                        help="slowdown tolerated, as a fraction (default 0.05)")
    parser.add_argument("--force", action="store_true", help="compare runs saved on different machines or clocks")
    parser.add_argument("--histogram", type=Path, default=None, metavar="PATH",
                        help="also plot both runs' samples (.svg or .png; needs matplotlib)")
    args = parser.parse_args(argv)
    root = args.store or store.default_store(Path.cwd(), None)
    if args.old is None:
        print(f"saved runs in {root}:", *list_runs(root), sep="\n")
        return 0
    if args.new is None:
        parser.error("name two runs: OLD NEW (or none, to list them)")
    if not 0 <= args.max_regression < 1:
        parser.error(f"--max-regression: expected a fraction in [0, 1), got {args.max_regression}")
    try:
        old, new = find_run(root, args.old), find_run(root, args.new)
    except store.StoreError as exc:
        print(f"solbench-compare: {exc}", file=sys.stderr)
        return 2
    differences = store.machine_differences(old.machine, new.machine)
    if differences and not args.force:
        print(f"solbench-compare: {old.path} and {new.path} were saved on different machines or clock states "
              f"({'; '.join(differences)}): their times are not comparable; --force compares anyway", file=sys.stderr)
        return 2
    report = compare.compare_runs(old.records, new.records, old.label, args.max_regression)
    print(f"{new.label} against {old.label}:", *compare.format_comparison(report), sep="\n")
    if args.histogram is not None:
        from pytest_solbench.reports.distribution import write_distribution

        try:
            tagged = [*(_tagged(r, old.name) for r in old.records), *(_tagged(r, new.name) for r in new.records)]
            count = write_distribution(sorted(tagged, key=_workload_first), args.histogram)
            print(f"timing samples of {count} item(s) plotted to {args.histogram}")
        except (RuntimeError, OSError) as exc:
            print(f"solbench-compare: the samples were not plotted: {exc}", file=sys.stderr)
            return 2
    return 1 if report.failed else 0


def _tagged(record: ItemResult, run: str) -> ItemResult:
    """The record with its run's name beside its kernel's, so the plot tells the two runs apart."""
    from dataclasses import replace

    return replace(record, kernel=f"{record.kernel} @ {run}")


def _workload_first(record: ItemResult) -> tuple[str, str, str]:
    """Each item's two runs side by side (the sort is stable: the old run's first)."""
    return record.problem, record.kernel.rsplit(" @ ", 1)[0], record.workload_uuid


if __name__ == "__main__":
    sys.exit(main())

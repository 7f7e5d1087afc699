"""Per-PR checks for one session: the saved run to compare against, each item's regression verdict, and the files
written at the end (the saved run, markdown, HTML, roofline). The statistics live in ``compare``, the files in
``store``, ``markdown``, ``html`` and ``roofline``; this module only wires them to the options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_solbench.reports import compare
from pytest_solbench.reports import store
from pytest_solbench.options import Settings
from pytest_solbench.record import ItemResult
from pytest_solbench.target import Target


class RunGates:
    def __init__(self, settings: Settings, target: Target, environment: dict[str, Any]) -> None:
        self.settings, self.target = settings, target
        self.machine = store.machine_info(environment, target.hardware.key, settings.clocks)
        self.old: store.SavedRun | None = None
        self._old_by_key: dict[compare.Key, ItemResult] = {}
        if settings.save is not None:
            try:
                store.check_save(settings.store, settings.save)
            except store.StoreError as exc:
                raise pytest.UsageError(f"--solbench-save: {exc}") from None
        for option, path in (("--solbench-markdown", settings.markdown_path), ("--solbench-html", settings.html_path),
                             ("--solbench-roofline", settings.roofline_path),
                             ("--solbench-histogram", settings.histogram_path)):  # fmt: skip
            if path is not None:
                _check_writable(option, path)
        if settings.compare is not None:
            try:
                where = settings.compare or store.latest_run(settings.store, self.machine)
                self.old = store.load_run(settings.store, where, self.machine, force=settings.compare_force)
            except store.StoreError as exc:
                raise pytest.UsageError(f"--solbench-compare: {exc}") from None
            self._old_by_key = {compare.key_of(r): r for r in self.old.records}

    def regression(self, record: ItemResult) -> str | None:
        """Why an item fails the comparison with the saved run (a confirmed slowdown), or None."""
        if self.old is None or not record.passed:
            return None
        verdict = compare.compare_item(self._old_by_key.get(compare.key_of(record)), record,
                                       self.settings.max_regression)  # fmt: skip
        if verdict.verdict != compare.SLOWER:
            return None
        message = compare.failure_message(verdict, self.old.label, self.settings.max_regression)
        return message.removeprefix(f"{compare.SLOWER}: ")  # the item's failure names the verdict first itself

    def finish(self, records: list[ItemResult], rootdir: Path, unfinished: list[str] | None = None,
               errors: list[str] | None = None) -> list[str]:  # fmt: skip
        """On the controller, after every item: compare, save, write the files; the lines to print. What could not
        be done is kept in ``failures`` too: the session then exits 1 (a run asked to be saved and was not).
        ``unfinished`` and ``errors``: what failed the run besides its items, for the summary's verdict (a file
        that could not be collected, an interruption; reports.markdown.render_markdown)."""
        unfinished, errors = unfinished or [], errors or []
        settings, lines = self.settings, []
        self.failures: list[str] = []
        report = None
        if self.old is not None:
            report = compare.compare_runs(self.old.records, records, self.old.label, settings.max_regression)
            lines += ["", *compare.format_comparison(report)]
        commit = store.git_commit(rootdir)
        if settings.save is not None:
            try:
                path = store.save_run(settings.store, settings.save or store.default_name(commit), records,
                                      self.machine, commit, unfinished)  # fmt: skip
                partial = f" (partial: {', '.join(unfinished)}; the run of the name asked for is left as it was)"
                lines.append(f"run saved to {path}" + (partial if unfinished else ""))
            except store.StoreError as exc:
                self.failures.append(f"the run was not saved: {exc}")
        header = self.header(commit)
        if settings.markdown_path is not None:
            from pytest_solbench.reports.markdown import append_step_summary, render_markdown, write_markdown

            text = render_markdown(records, report, header, unfinished, errors)
            try:
                write_markdown(settings.markdown_path, text)
                summary = append_step_summary(text)
                lines.append(f"markdown summary written to {settings.markdown_path}"
                             + (f" and appended to {summary}" if summary else ""))  # fmt: skip
            except OSError as exc:
                self.failures.append(f"the markdown summary was not written: {settings.markdown_path}: {exc.strerror}")
        if settings.html_path is not None:
            from pytest_solbench.reports.html import render_html, write_html

            try:
                write_html(settings.html_path, render_html(records, report, header, hardware=self.target.hardware,
                                                           unfinished=unfinished, errors=errors))
                lines.append(f"HTML report written to {settings.html_path}")
            except OSError as exc:
                self.failures.append(f"the HTML report was not written: {settings.html_path}: {exc.strerror}")
        if settings.roofline_path is not None:
            self._roofline(records, settings.roofline_path, lines)
        if settings.histogram_path is not None:
            from pytest_solbench.reports.distribution import timed_samples, write_distribution

            if not self.target.timed and not timed_samples(records):  # CPU mode: the header said it is ignored
                lines.append(f"{settings.histogram_path}: not plotted: CPU mode times nothing")
            else:
                try:
                    count = write_distribution(records, settings.histogram_path)
                    lines.append(f"timing samples of {count} item(s) plotted to {settings.histogram_path}")
                except (RuntimeError, OSError) as exc:
                    self.failures.append(f"the samples were not plotted: {exc}")
        return lines + self.failures

    def header(self, commit: str | None) -> dict[str, Any]:
        device, settings = self.target.device, self.settings
        return {"device": device.name, "driver": device.driver, "hardware": self.target.hardware.key,
                "clocks": settings.clocks, "timer": settings.timer if self.target.timed else "untimed (CPU)",
                "isolation": settings.isolate, "commit": commit}  # fmt: skip

    def _roofline(self, records: list[ItemResult], path: Path, lines: list[str]) -> None:
        from pytest_solbench.reports.roofline import write_png, write_svg

        try:
            (write_png if path.suffix == ".png" else write_svg)(records, self.target.hardware, path)
            lines.append(f"roofline written to {path}")
        except (RuntimeError, OSError) as exc:
            self.failures.append(f"the roofline was not written: {exc}")


def _check_writable(option: str, path: Path) -> None:
    """A file the session writes at its end, checked before anything runs: after a long run it is too late to say
    it cannot be written."""
    import os

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fine = not path.is_dir() and os.access(path.parent, os.W_OK)
        why = "it is a folder" if path.is_dir() else "its folder cannot be written"
    except OSError as exc:
        fine = False
        why = "a folder on that path is a file" if isinstance(exc, (FileExistsError, NotADirectoryError)) else exc.strerror
    if not fine:
        raise pytest.UsageError(f"{option} {path}: cannot be written: {why}")

"""Every name the package uses is defined: CI runs no GPU, so a GPU-only branch that names something never imported
fails there only at run time (a found defect: ``os`` in the clock lock's signal handler). pyflakes reads every
module and reports undefined names; imports it finds unused are left to review (some are re-exports)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _undefined(paths: list[Path]) -> list[str]:
    """pyflakes' undefined-name findings (and files it could not read) over ``paths``."""
    api = pytest.importorskip("pyflakes.api", reason="pyflakes is in the test extra: pip install -e '.[test]'")
    from pyflakes import messages
    from pyflakes.reporter import Reporter

    found: list[str] = []
    undefined = (messages.UndefinedName, messages.UndefinedLocal, messages.UndefinedExport)

    class Collect(Reporter):
        def __init__(self) -> None:
            pass

        def flake(self, message) -> None:
            if isinstance(message, undefined):
                found.append(str(message))

        def syntaxError(self, filename, msg, lineno, offset, text) -> None:  # noqa: N802 - pyflakes' API
            found.append(f"{filename}:{lineno}: {msg}")

        def unexpectedError(self, filename, msg) -> None:  # noqa: N802
            found.append(f"{filename}: {msg}")

    for path in paths:
        api.checkPath(str(path), Collect())
    return found


def test_no_module_of_the_package_examples_or_benchmarks_uses_an_undefined_name() -> None:
    folders = ("pytest_solbench", "examples", "benchmarks")
    files = [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]
    files.append(ROOT / "conftest.py")
    assert len(files) > 100
    assert _undefined(files) == []


def test_an_undefined_name_is_found(tmp_path: Path) -> None:
    """The check can fail: a module naming ``os`` without importing it is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    return os.getpid()\n")
    assert [m.split(": ", 1)[1] for m in _undefined([bad])] == ["undefined name 'os'"]

"""Where problems live when the user names none: the library shipped with the plugin."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def bundled_problems() -> Path:
    """The problem library shipped in the wheel (or the repo's ``problems/`` in an editable install)."""
    spec = importlib.util.find_spec("pytest_solbench.problems")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parents[2] / "problems"  # a source checkout used without installing

"""Modules of which a kernel may use a few names without an allowance (:data:`tables.IMPORTABLE_NAMES`):
``inspect.signature``, ``importlib.import_module``, ``importlib.resources.files`` (red-team round 21, z02, z07, z30).
Importing the module is fine; each name of it the kernel uses is judged where it is used, so ``import inspect`` and
then ``inspect.getmembers(F)`` is ``unlisted-import`` at the use.
"""

from __future__ import annotations

from pytest_solbench.guard.names import is_module
from pytest_solbench.guard.tables import IMPORTABLE_NAMES


def partly_importable(name: str) -> bool:
    """Whether ``name``'s top-level module is one of which only some names are importable."""
    return name.split(".")[0] in IMPORTABLE_NAMES


def outside_the_listed_names(name: str) -> bool:
    """Whether ``name`` (of a partly importable module) is none of the names listed for it: the module itself, a
    listed name, or what a listed function or class holds (``inspect.Parameter.empty``; not what a listed module
    holds beyond its listed names: ``importlib.resources.as_file`` writes a temporary file)."""
    top = name.split(".")[0]
    if name == top:
        return False
    listed = IMPORTABLE_NAMES.get(top, ())
    return name not in listed and not any(name.startswith(n + ".") for n in listed if not is_module(n))

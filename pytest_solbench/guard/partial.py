"""Modules of which a kernel may use a few names without an allowance (:data:`tables.IMPORTABLE_NAMES`):
``inspect.signature``, ``importlib.import_module``, ``importlib.resources.files`` (red-team round 21, z02, z07, z30).
Importing the module is fine; each name of it the kernel uses is judged where it is used, so ``import inspect`` and
then ``inspect.getmembers(F)`` is ``unlisted-import`` at the use.
"""

from __future__ import annotations

import ast
from typing import Callable, Iterator

from pytest_solbench.guard.names import is_module
from pytest_solbench.guard.tables import IMPORTABLE, IMPORTABLE_NAMES, MODULE_RULES


def partly_importable(name: str) -> bool:
    """Whether ``name``'s top-level module is one of which only some names are importable."""
    return name.split(".")[0] in IMPORTABLE_NAMES


def unimportable(name: str, local_modules: frozenset[str]) -> str | None:
    """Why importing ``name`` is ``unlisted-import``: a module outside :data:`tables.IMPORTABLE` and the kernel's
    own that no named rule already covers (threading, subprocess, ctypes... say why under their own rule, which an
    allowance names); None where it is fine."""
    top = name.split(".")[0]
    if not top or top.startswith(".") or top in IMPORTABLE or top in local_modules:
        return None
    if any(name == prefix or name.startswith(prefix + ".") for prefix in MODULE_RULES):
        return None
    if partly_importable(name) and not outside_the_listed_names(name):
        return None  # import inspect: its names are judged where they are used (rules._check_name)
    if not is_module(top):
        return None  # not installed: the import fails (COMPILE_ERROR) before anything runs
    return f"imports {name}, outside the modules a kernel may import ({', '.join(sorted(IMPORTABLE)[:8])}...)"


def outside_the_listed_names(name: str) -> bool:
    """Whether ``name`` (of a partly importable module) is none of the names listed for it: the module itself, a
    listed name, or what a listed function or class holds (``inspect.Parameter.empty``; not what a listed module
    holds beyond its listed names: ``importlib.resources.as_file`` writes a temporary file)."""
    top = name.split(".")[0]
    if name == top:
        return False
    listed = IMPORTABLE_NAMES.get(top, ())
    return name not in listed and not any(name.startswith(n + ".") for n in listed if not is_module(n))


#: Modules a star import may come from: nothing a rule names is in them (the kernel's own modules are read anyway).
STAR_SAFE = ("math", "typing")


def hidden_imports(tree: ast.AST, resolve: Callable[[ast.AST], "str | None"],
                   local_modules: frozenset[str] | set[str]) -> Iterator[tuple[ast.AST, str]]:  # fmt: skip
    """Imports that bind what the rules cannot see (red-team round 22, aa02, aa08): ``from X import *`` of a module
    not the kernel's own (``from sys import *`` bound ``modules``; ``from numpy import *`` bound ``inner``), and
    ``importlib.import_module`` with a relative name, a ``package`` or keywords (``import_module(".", "numpy")`` is
    numpy, which the rules read as "." alone)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names):
            module = node.module or ""
            if not node.level and module.split(".")[0] not in local_modules and module not in STAR_SAFE:
                yield node, f"from {module} import * binds names the rules cannot see"
        elif isinstance(node, ast.Call) and resolve(node.func) == "importlib.import_module":
            first = node.args[0] if node.args else None
            relative = isinstance(first, ast.Constant) and str(first.value).startswith(".")
            if node.keywords or len(node.args) > 1 or relative:
                yield node, "importlib.import_module() with a package, a relative name or keywords hides what is imported"

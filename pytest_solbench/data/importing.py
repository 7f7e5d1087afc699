"""Importing a kernel's Python files from the text the static rules read, and only those files.

The standard ``SourceFileLoader`` reads a module's bytecode first (``sys.pycache_prefix``, else the ``__pycache__``
beside it) and runs it without looking at the source when the ``.pyc`` says so (an unchecked hash-based pyc), or when
its header copies the source's mtime and size (a timestamp pyc). A kernel wrote such a ``.pyc`` at run time into its
private temp, where ``sys.pycache_prefix`` points, through Triton's ``FileCacheManager(<absolute dir>).put(...)``,
then imported the helper the rules had read: the planted code ran (red-team round 18, u01, u01b). So a kernel's
modules here are compiled from the text the rules read (``guard.bundle``; a solution's listed sources) and never from
bytecode, read or written: no file written at run time can stand in for one of them. The same finder serves a
solution's materialized folder, which the kernel's user can write: a ``late.py`` it wrote there and imported with
``from . import late`` ran code no rule read (u02); only the listed sources are found there now.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Mapping


class SourceOnlyLoader(importlib.machinery.SourceFileLoader):
    """Compiles a module from ``text`` (what the rules read), or from its file's bytes where no text was given
    (a file the rules could not open, whose import then fails as it would); never reads or writes bytecode."""

    def __init__(self, fullname: str, path: str, text: str | None = None) -> None:
        super().__init__(fullname, path)
        self.text = text

    def get_code(self, fullname: str) -> Any:
        source = self.text if self.text is not None else self.get_data(self.path)
        return self.source_to_code(source, self.path)


def source_spec(name: str, path: Path | str, text: str | None = None, package: Path | None = None) -> Any:
    """A module spec for ``path`` whose loader compiles ``text`` (``package``: the folder it is the ``__init__`` of)."""
    loader = SourceOnlyLoader(name, str(path), text)
    if package is None:
        return importlib.util.spec_from_file_location(name, path, loader=loader, submodule_search_locations=None)
    return importlib.util.spec_from_file_location(name, path, loader=loader, submodule_search_locations=[str(package)])


class BundleFinder(importlib.abc.MetaPathFinder):
    """Imports from a kernel's folder only the Python files the static rules read (``guard.bundle``), at any depth,
    and nothing else there: no other ``.py``, no ``.pyc``, ``.so`` or namespace portion of it. A package's
    ``__path__`` reaches every file below it, so a finder of top-level names only let a sourceless
    ``lib/__pycache__/fast.pyc`` be imported (red-team round 14, q01); a name through a ``__pycache__`` folder is
    refused outright. Other names are left to the import system (the folder is not on ``sys.path``). Each module
    found is compiled from ``texts`` (relative path -> the text the rules read), never from bytecode (round 18).
    ``top``: where a top-level name is looked for (a solution's entry in a subfolder imports its neighbours flat)."""

    def __init__(self, folder: Path, files: frozenset[str], texts: Mapping[str, str] | None = None,
                 top: Path | None = None) -> None:  # fmt: skip
        self.folder, self.files, self.texts = str(folder), files, dict(texts or {})
        self.top = str(top or folder)
        self.real = os.path.realpath(folder)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        inside = [self.top] if path is None else [p for p in path if self._inside(p)]
        if not inside:
            return None
        if fullname.rpartition(".")[2] == "__pycache__":
            raise ModuleNotFoundError(f"{fullname}: a __pycache__ folder holds Python's caches, not modules a kernel "
                                      "imports", name=fullname)  # fmt: skip
        spec = importlib.machinery.PathFinder.find_spec(fullname, inside)
        if spec is None:
            return None
        if spec.origin in (None, "namespace"):
            return self._namespace(fullname, path, spec)
        rel = os.path.relpath(spec.origin, self.folder).replace(os.sep, "/")
        if rel in self.files and isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            spec.loader = SourceOnlyLoader(fullname, spec.origin, self.texts.get(rel))
            return spec
        if path is None:  # a top-level name the rules did not follow there: what is installed, as on the path
            return None
        raise ModuleNotFoundError(f"{fullname}: {rel} in the kernel's folder is not among the files the static rules "
                                  "read (only what the kernel's sources import by name is)", name=fullname)  # fmt: skip

    def _namespace(self, fullname: str, path: Any, spec: Any) -> Any:
        """A folder without ``__init__.py``: a namespace package of the kernel's when a file read lies under it, and
        a top-level one yields, as on the path, to a module installed elsewhere."""
        portions = [os.path.relpath(p, self.folder).replace(os.sep, "/") + "/" for p in spec.submodule_search_locations]
        if not any(rel.startswith(portion) for rel in self.files for portion in portions):
            if path is None:
                return None
            raise ModuleNotFoundError(f"{fullname}: no file the static rules read is in it", name=fullname)
        if path is None:
            found = importlib.machinery.PathFinder.find_spec(fullname, sys.path)
            if found is not None and found.origin not in (None, "namespace"):
                return None
        return spec

    def _inside(self, entry: Any) -> bool:
        """Whether a ``__path__`` entry is in the kernel's folder, as spelled or through links."""
        if not isinstance(entry, str):
            return False
        return any(p.startswith(root + os.sep) or p == root for p, root in
                   ((os.path.abspath(entry), self.folder), (os.path.realpath(entry), self.real)))  # fmt: skip

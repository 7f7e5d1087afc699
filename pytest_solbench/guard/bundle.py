"""Everything a kernel brings, gathered for the static rules: its sources, the local modules and packages it imports
(followed transitively), and the findings about its files that no source text shows.

- A plain Python kernel brings the modules it imports from its own folder (``helpers.py``, ``pkg/__init__.py`` and
  ``pkg/sub.py`` for ``import pkg.sub``), and each of those brings what it imports in turn. Its process imports from
  that folder only the files read here (``data.kernels``' finder refuses the rest, at any depth: red-team round 14,
  q01), so a file no import reaches (an author's ``bench.py``, ``tests/``, a Jupyter checkpoint) is neither read nor
  run. Names are resolved as the import system does (a package, then a module file, then a namespace folder: q03).
  Every top-level entry of the folder counts too: a file or folder named like an installed or standard module
  (``torch.py``, ``numpy/``, ``typing.py``) is ``shadowing``, and compiled code without its source (``x.pyc``
  beside nothing, ``.so``/``.pyd``/``.dll``/``.dylib``, cubins, an executable) is ``sourceless``: the rules cannot
  read it, and the plugin did not build it.
- A solution.json brings its listed sources (materialized in a folder of their own); a source path with a compiled
  suffix, or named like an installed module, is refused the same way.

Nothing is imported: names are looked up with the import system's own finder, on the path the kernel's worker has.
"""

from __future__ import annotations

import ast
import functools
import importlib.machinery
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from pytest_solbench.data.kernels import KernelSpec
from pytest_solbench.guard.rules import CPP_SUFFIXES, Finding

COMPILED_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd", ".dll", ".dylib", ".a", ".o", ".cubin", ".fatbin", ".exe")
BINARY_MAGIC = (b"\x7fELF", b"MZ", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
TEXT_SUFFIXES = (".py", ".json", ".jsonl", ".md", ".txt", ".toml", ".yaml", ".yml", ".cfg", *CPP_SUFFIXES)


@dataclass(frozen=True)
class Bundle:
    """A kernel's sources as the rules read them, its own top-level module names, and its files' findings."""

    sources: tuple[tuple[str, str], ...]  # (path relative to the kernel's folder, text)
    local_modules: frozenset[str]  # top-level names of its own modules and packages (shadows left out)
    findings: tuple[Finding, ...]  # shadowing and sourceless files
    closed: frozenset[str] = frozenset()  # .py files imported but closed to this process (``unparsable`` here)

    @property
    def files(self) -> frozenset[str]:
        """The Python files of the kernel's folder its process may import (``data.kernels``): those read here, and
        those it cannot read either (importing one fails with the file named: own-user's hint, ``confine``)."""
        return frozenset(rel for rel, _ in self.sources if rel.endswith(".py")) | self.closed


def kernel_bundle(spec: KernelSpec) -> Bundle:
    """What ``spec`` brings: a solution's sources, or a module with every local module it imports."""
    if spec.sources:
        return _solution_bundle(spec)
    folder = spec.path.parent
    findings: list[Finding] = []
    shadows: dict[str, str] = {}
    compiled: set[str] = set()
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:  # an unreadable folder: its files cannot be vouched for
        entries = []
        findings.append(Finding("unparsable", folder.name + "/", 0, f"cannot list the kernel's folder: {exc}"))
    # Each entry named like an installed module is a shadow, but a finding only where the kernel's sources import
    # it (``_follow_imports``): its process is served no file the rules did not read, so an entry nothing imports
    # runs nowhere, and another author's ``json/`` in a shared folder made an honest kernel that never imported
    # json REWARD_HACK (red-team round 15, r09). A compiled entry likewise counts where it is imported.
    for entry in entries:
        name = _module_name(entry)
        if name is None:
            continue
        plain_folder = entry.is_dir() and not (entry / "__init__.py").is_file()
        installed = joins_namespace(name, folder) if plain_folder else shadowed(name, folder)
        if installed:
            shadows[name] = installed
        elif entry.is_file() and _is_compiled(entry):
            compiled.add(name)  # its own module all the same: sourceless, not an unlisted import
    # A package's folder (an __init__.py): the kernel is imported as a module of it, which runs the __init__.py.
    package = [folder / "__init__.py"] if (folder / "__init__.py").is_file() else []
    sources, tops, import_findings, closed = _follow_imports([spec.path, *package], folder, shadows)
    findings += import_findings
    local = frozenset({rel.split("/", 1)[0].removesuffix(".py") for rel, _ in sources} | tops | compiled)
    return Bundle(tuple(sources), local - set(shadows), tuple(findings), frozenset(closed))


@functools.lru_cache(maxsize=4096)
def shadowed(name: str, folder: Path) -> str | None:
    """What a top-level module ``name`` in ``folder`` would hide ("the standard library's typing", "the installed
    torch (/site-packages/torch)"), or None. Looked up once per name and folder."""
    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        return f"the standard library's {name}"
    here = os.path.realpath(folder)
    spec = _found_elsewhere(name, folder)
    origin = spec.origin if spec else None
    if origin is None or origin == "namespace" or os.path.realpath(origin).startswith(here + os.sep):
        return None
    location = os.path.dirname(origin) if spec.submodule_search_locations else origin
    return f"the installed {name} ({location})"


@functools.lru_cache(maxsize=4096)
def joins_namespace(name: str, folder: Path) -> str | None:
    """The installed namespace package a folder ``name`` without ``__init__.py`` in ``folder`` would join, or None.
    Such a folder hides no module or regular package (the import system takes those first, wherever they are on the
    path: a project's ``test/`` or ``site/`` beside a kernel hides nothing, round 12, n09), but its files join an
    installed namespace package's (``nvidia/``, ``google/``) ahead of them."""
    spec = _found_elsewhere(name, folder)
    if spec is None or spec.origin not in (None, "namespace") or not spec.submodule_search_locations:
        return None
    return f"the installed namespace package {name} ({', '.join(spec.submodule_search_locations)})"


def _found_elsewhere(name: str, folder: Path) -> Any:
    """What the import system finds for the top-level ``name`` on the path of the kernel's worker, without ``folder``,
    or None. The worker's path is this process's less the working directory (``worker.pool.worker_path``, not
    imported: the guard imports no worker): pytest's project is there (its ``docs/``, ``tests/``), and an author's
    ``docs/`` beside a kernel was ``shadowing`` for it though no worker could join it (red-team round 14, h19)."""
    here, cwd = os.path.realpath(folder), os.path.realpath(os.getcwd())
    paths = [p for p in sys.path if p and os.path.realpath(p) not in (here, cwd)]
    try:
        return importlib.machinery.PathFinder.find_spec(name, paths)
    except (ImportError, ValueError, OSError):
        return None


# ---------------------------------------------------------------- a plain module and what it imports


def _follow_imports(entries: list[Path], folder: Path,
                    shadows: dict[str, str]) -> tuple[list[tuple[str, str]], set[str], list[Finding], set[str]]:  # fmt: skip
    """The sources ``entries`` bring, followed through their local imports; the top-level local names they import;
    the findings (a compiled module imported, a folder link out of the kernel's folder, a shadowed name)."""
    sources: dict[str, str] = {}
    tops: set[str] = set()
    closed: set[str] = set()  # closed to this process: a kernel's own-user process meets a 0600 file of its author's
    findings: list[Finding] = []
    pending = list(entries)
    while pending:
        path = pending.pop()
        rel = path.relative_to(folder).as_posix()
        if path.is_dir():  # _local_files names a folder link that leaves the kernel's folder
            findings.append(Finding("sourceless", rel + "/", 0, f"{rel}/ is a link to {os.path.realpath(path)}, out of "
                                    "the kernel's folder: the rules cannot read what is there"))  # fmt: skip
            continue
        if rel in sources or not path.is_file():
            continue
        try:
            text = importlib.util.decode_source(path.read_bytes())  # as the importer reads it, coding cookie included
        except (OSError, UnicodeDecodeError, SyntaxError, LookupError) as exc:
            findings.append(Finding("unparsable", rel, 0, f"cannot be read as text: {exc}"))
            if isinstance(exc, PermissionError):
                closed.add(rel)
            continue
        sources[rel] = text
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue  # the rules report it as unparsable
        for node, dotted in [*_imports(tree, path, folder), *_named_in_strings(tree, path, folder)]:
            top = dotted.split(".")[0]
            if top in shadows and not getattr(node, "level", 0):  # ``from .types import T`` is the package's own
                what = f"imports {dotted}, which loads the local {top} instead of {shadows[top]}"
                findings.append(Finding("shadowing", rel, node.lineno, what))
                continue
            found = _local_files(folder, dotted.split("."), folder)
            if found is None:
                continue
            if top != "*":  # ``from . import *`` in a package kernel's folder names no module
                tops.add(top)
            for file in found:
                if file.suffix == ".py" or file.is_dir():
                    pending.append(file)
                elif _is_compiled(file):
                    shown = file.relative_to(folder).as_posix()
                    findings.append(_sourceless_finding(rel, node.lineno, shown, imported=dotted))
    return sorted(sources.items()), tops, findings, closed


def _imports(tree: ast.Module, path: Path, folder: Path) -> Iterator[tuple[ast.stmt, str]]:
    """(statement, dotted name relative to ``folder``) of every import in a file; relative imports resolved."""
    package = path.parent.relative_to(folder).parts
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            stem = _absolute(node.level, node.module or "", package)
            for alias in node.names:  # ``from pkg import sub`` may name a submodule
                yield node, f"{stem}.{alias.name}" if stem else alias.name


def _named_in_strings(tree: ast.Module, path: Path, folder: Path) -> Iterator[tuple[ast.AST, str]]:
    """(constant, dotted name) of every string that starts like a module name (``import_module("impl")``,
    ``pkgutil.resolve_name("impl:go")``, ``import_module(".impl", __package__)`` resolved against the file's package):
    a local module named only in a string is brought and read all the same, and only what is read can be imported."""
    package = path.parent.relative_to(folder).parts
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 200:
            dotted = node.value.split(":", 1)[0].strip()
            name = dotted.lstrip(".")
            if name and all(part.isidentifier() for part in name.split(".")):
                yield node, _absolute(len(dotted) - len(name), name, package)


def _absolute(level: int, module: str, package: tuple[str, ...]) -> str:
    """A module name ``level`` dots up from ``package`` (the importing file's folder, relative to the kernel's)."""
    if not level:
        return module
    base = package[: len(package) - (level - 1)] if level - 1 <= len(package) else ()
    return ".".join([*base, *([module] if module else [])])


def _local_files(start: Path, parts: list[str], folder: Path) -> list[Path] | None:
    """The files in ``start`` (within the kernel's ``folder``) that importing the name ``parts`` runs: each package's
    ``__init__`` on the way and the module itself, found as the import system finds them (a package, then a module
    file, then a namespace folder: a ``fastlib.py`` beside a folder ``fastlib/`` is what runs, red-team round 14,
    q03); None when the first part is nothing there. ``*`` (``from pkg import *``) brings every module of the package,
    which an ``__all__`` computed at run time may name (round 13, o01). A folder link out of ``folder`` is listed as
    the folder, not entered (the caller says why)."""
    here, files = start, []
    for depth, part in enumerate(parts):
        if part == "*":
            for name in _module_names(here):
                files += _local_files(here, [name], folder) or []
            return files
        kind, file = _find_module(here, part)
        if kind is None:
            return files if depth else None
        if file is not None:
            files.append(file)
        if kind == "module":
            return files
        here = here / part
        inside = os.path.realpath(folder)
        if not os.path.realpath(here).startswith(inside + os.sep):
            return [*files, here]
    return files


def _find_module(folder: Path, name: str) -> tuple[str | None, Path | None]:
    """How the import system's FileFinder finds ``name`` in ``folder``: ("package", its ``__init__``), ("module", its
    file), ("namespace", None) or (None, None); extensions before sources before bytecode, as its loaders are tried."""
    suffixes = (*importlib.machinery.EXTENSION_SUFFIXES, *importlib.machinery.SOURCE_SUFFIXES,
                *importlib.machinery.BYTECODE_SUFFIXES)  # fmt: skip
    if not name.isidentifier():
        return None, None
    package = folder / name
    if package.is_dir():
        for suffix in suffixes:
            if (package / f"__init__{suffix}").is_file():
                return "package", package / f"__init__{suffix}"
    for suffix in suffixes:
        if (folder / f"{name}{suffix}").is_file():
            return "module", folder / f"{name}{suffix}"
    return ("namespace", None) if package.is_dir() else (None, None)


def _module_names(folder: Path) -> list[str]:
    """The names of the modules and subpackages a package's folder holds."""
    try:
        names = {entry.name.split(".")[0] for entry in folder.iterdir()}
    except OSError:
        return []
    return sorted(name for name in names if name.isidentifier() and name != "__init__")


def _module_name(entry: Path) -> str | None:
    """The top-level module name an entry of the kernel's folder can be imported as, or None."""
    if entry.name.startswith(".") or entry.name == "__pycache__":
        return None
    name = entry.name if entry.is_dir() else entry.name.split(".")[0]
    if entry.is_file() and not (entry.suffix == ".py" or entry.suffix in COMPILED_SUFFIXES):
        return name if _is_compiled(entry) and name.isidentifier() else None
    return name if name.isidentifier() and not name.startswith("__") else None


def _is_compiled(path: Path) -> bool:
    if path.suffix in COMPILED_SUFFIXES:
        return True
    if path.suffix in TEXT_SUFFIXES:
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError:
        return False
    return head.startswith(BINARY_MAGIC)


def _shadow_finding(path: str, line: int, name: str, installed: str) -> Finding:
    return Finding("shadowing", path, line, f"{path} is named like {installed}: it would be imported in its place; "
                   "rename it")  # fmt: skip


def _sourceless_finding(path: str, line: int, shown: str, imported: str = "") -> Finding:
    what = f"imports {imported} from {shown}" if imported else f"{shown} is"
    return Finding("sourceless", path, line, f"{what} compiled code without its source, which the rules cannot "
                   "read and the plugin did not build")  # fmt: skip


# ---------------------------------------------------------------- a solution.json


def _solution_bundle(spec: KernelSpec) -> Bundle:
    findings: list[Finding] = []
    shadows: set[str] = set()
    here = spec.path.parent
    for rel, _ in spec.sources:
        top = rel.split("/", 1)[0]
        name = top.split(".")[0] if "/" not in rel else top
        if rel.endswith(COMPILED_SUFFIXES):
            findings.append(_sourceless_finding(rel, 0, rel))
        elif (rel.endswith(".py") or "/" in rel) and name.isidentifier() and not name.startswith("__"):
            installed = shadowed(name, here)
            if installed and name not in shadows:
                shadows.add(name)
                findings.append(_shadow_finding(top if "/" not in rel else top + "/", 0, name, installed))
    local = frozenset(rel.split("/", 1)[0].removesuffix(".py") for rel, _ in spec.sources if rel.endswith(".py"))
    return Bundle(tuple(spec.sources), local - shadows, tuple(findings))

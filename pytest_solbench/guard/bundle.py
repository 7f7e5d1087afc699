"""Everything a kernel brings, gathered for the static rules: its sources, the local modules and packages it imports
(followed transitively), and the findings about its files that no source text shows.

- A plain Python kernel brings the modules it imports from its own folder (``helpers.py``, a package ``pkg/``,
  whose every ``.py`` comes along), and each of those brings what it imports in turn. Its folder is on
  ``sys.path`` while it is imported, so every top-level entry there counts too: a file or folder named like an
  installed or standard module (``torch.py``, ``numpy/``, ``typing.py``) is ``shadowing``, and compiled code
  without its source (``x.pyc`` beside nothing, ``.so``/``.pyd``/``.dll``/``.dylib``, cubins, an executable) is
  ``sourceless``: the rules cannot read it, and the plugin did not build it.
- A solution.json brings its listed sources (materialized in a folder of their own); a source path with a compiled
  suffix, or named like an installed module, is refused the same way.

Nothing is imported: names are looked up on ``sys.path`` with the import system's own finder.
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
    for entry in entries:
        name = _module_name(entry)
        if name is None:
            continue
        plain_folder = entry.is_dir() and not (entry / "__init__.py").is_file()
        installed = joins_namespace(name, folder) if plain_folder else shadowed(name, folder)
        if installed:
            shadows[name] = installed
            findings.append(_shadow_finding(entry.name + ("/" if entry.is_dir() else ""), 0, name, installed))
        elif entry.is_file() and _is_compiled(entry):
            findings.append(_sourceless_finding(entry.name, 0, entry.name))
            compiled.add(name)  # its own module all the same: sourceless, not an unlisted import
    # A package's folder (an __init__.py): the kernel is imported as a module of it, and every file of the package
    # is within its reach (``from . import *`` of a computed ``__all__``, round 13, o01), so all are read.
    package = package_files(folder, folder) if (folder / "__init__.py").is_file() else []
    sources, import_findings = _follow_imports([spec.path, *package], folder, shadows)
    findings += import_findings
    local = frozenset({rel.split("/", 1)[0].removesuffix(".py") for rel, _ in sources} | compiled) - set(shadows)
    return Bundle(tuple(sources), local, tuple(findings))


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
    """What the import system finds for the top-level ``name`` on ``sys.path`` without ``folder``, or None."""
    here = os.path.realpath(folder)
    paths = [p for p in sys.path if os.path.realpath(p or os.getcwd()) != here]
    try:
        return importlib.machinery.PathFinder.find_spec(name, paths)
    except (ImportError, ValueError, OSError):
        return None


# ---------------------------------------------------------------- a plain module and what it imports


def _follow_imports(entries: list[Path], folder: Path,
                    shadows: dict[str, str]) -> tuple[list[tuple[str, str]], list[Finding]]:  # fmt: skip
    sources: dict[str, str] = {}
    findings: list[Finding] = []
    pending = list(entries)
    while pending:
        path = pending.pop()
        rel = path.relative_to(folder).as_posix()
        if path.is_dir():  # package_files names a folder link that leaves the package
            findings.append(Finding("sourceless", rel + "/", 0, f"{rel}/ is a link to {os.path.realpath(path)}, out of "
                                    "the kernel's folder: the rules cannot read what is there"))  # fmt: skip
            continue
        if rel in sources or not path.is_file():
            continue
        try:
            text = importlib.util.decode_source(path.read_bytes())  # as the importer reads it, coding cookie included
        except (OSError, UnicodeDecodeError, SyntaxError, LookupError) as exc:
            findings.append(Finding("unparsable", rel, 0, f"cannot be read as text: {exc}"))
            continue
        sources[rel] = text
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue  # the rules report it as unparsable
        for node, dotted in [*_imports(tree, path, folder), *_named_in_strings(tree)]:
            top = dotted.split(".")[0]
            if top in shadows:
                what = f"imports {dotted}, which loads the local {top} instead of {shadows[top]}"
                findings.append(Finding("shadowing", rel, node.lineno, what))
                continue
            found = _local_files(folder, dotted)
            if found is None:
                continue
            for file in found:
                if file.suffix == ".py" or file.is_dir():
                    pending.append(file)
                elif _is_compiled(file):
                    shown = file.relative_to(folder).as_posix()
                    findings.append(_sourceless_finding(rel, node.lineno, shown, imported=dotted))
    return sorted(sources.items()), findings


def _imports(tree: ast.Module, path: Path, folder: Path) -> Iterator[tuple[ast.stmt, str]]:
    """(statement, dotted name relative to ``folder``) of every import in a file; relative imports resolved."""
    package = path.parent.relative_to(folder).parts
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level - 1 <= len(package) else ()
                stem = ".".join([*base, *([node.module] if node.module else [])])
            else:
                stem = node.module or ""
            for alias in node.names:  # ``from pkg import sub`` may name a submodule
                yield node, f"{stem}.{alias.name}" if stem else alias.name


def _named_in_strings(tree: ast.Module) -> Iterator[tuple[ast.AST, str]]:
    """(constant, dotted name) of every string that starts like a module name (``import_module("impl")``,
    ``pkgutil.resolve_name("impl:go")``): a local module named only in a string is brought and read all the same."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 200:
            dotted = node.value.split(":", 1)[0].strip()
            if dotted and all(part.isidentifier() for part in dotted.split(".")):
                yield node, dotted


def _local_files(folder: Path, dotted: str) -> list[Path] | None:
    """The files under ``folder`` that importing ``dotted`` runs: a module file, or every file of a local package
    (so that what a package imports by a computed name is read too); None when ``dotted`` is not local."""
    parts = dotted.split(".")
    top = folder / parts[0]
    if top.is_dir() and not top.name.startswith(".") and top.name != "__pycache__":
        return package_files(top, folder)
    if (folder / f"{parts[0]}.py").is_file():
        return [folder / f"{parts[0]}.py"]
    compiled = [p for p in folder.glob(f"{parts[0]}.*") if p.is_file() and _is_compiled(p)]
    return compiled or None


def package_files(top: Path, within: Path) -> list[Path]:
    """Every source and compiled file under ``top``, through folder links too and into ``__pycache__`` folders (a
    ``.py`` there imports as a subpackage's module): a file the import system can reach is one the rules read
    (red-team round 13: o12 reached ``fast.py`` through a link to a hidden folder, o15 put it in ``__pycache__``).
    A ``.pyc`` in ``__pycache__`` is Python's own cache, never read under ``bytecode``. A folder link out of
    ``within`` (the kernel's folder) is listed as the folder, not walked."""
    found, seen, inside = [], set(), os.path.realpath(within)
    for folder, dirs, files in os.walk(top, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:  # a link loop, or a folder reached twice
            dirs[:] = []
            continue
        seen.add(real)
        if real != inside and not real.startswith(inside + os.sep):
            found.append(Path(folder))  # a link out of the kernel's folder: named, never walked (the rules say why)
            dirs[:] = []
            continue
        cache = os.path.basename(folder) == "__pycache__"
        for name in files:
            path = Path(folder) / name
            if path.is_file() and (path.suffix == ".py" or (_is_compiled(path) and not cache)):
                found.append(path)
    return sorted(found)


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

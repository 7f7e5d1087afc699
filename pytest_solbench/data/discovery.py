"""Finding kernels under ``--kernel-dir`` statically: nothing is imported at collection.

A FlashInfer Trace ``solution.json`` is validated field by field; a Python module is a kernel when it assigns
``DEFINITION = "<definition name>"`` (read from its syntax tree). A file that looks like a kernel but is broken
becomes a ``TraceError`` naming file and field, reported as a failing item while the others run.
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from pytest_solbench.data.kernels import CUDA_LANGUAGES, PYTHON_LANGUAGES, REFERENCE, SAFE_NAME, KernelSpec
from pytest_solbench.data.schema import TraceError


def _module_definition(path: Path) -> list[str] | None:
    """The definition names a Python module declares with ``DEFINITION = ...``, read without importing it.

    None: not a kernel module. A module that mentions DEFINITION but cannot be parsed raises TraceError: a NUL
    byte (ValueError on Python 3.11), bytes that are not its encoding's, or nesting too deep for the parser
    (MemoryError, RecursionError) ended the whole session with an INTERNALERROR, every other author's kernel with it
    (red-team round 14, q10). The bytes are parsed, as Python imports them (an encoding declaration holds).
    """
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if b"DEFINITION" not in raw:
        return None
    try:
        tree = ast.parse(raw, filename=str(path))
    except SyntaxError as exc:
        raise TraceError(path, f"line {exc.lineno}", f"syntax error: {exc.msg}") from None
    except (ValueError, MemoryError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise TraceError(path, "", f"cannot be parsed as Python: {_why(exc)}") from None
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "DEFINITION" for t in targets):
                value = node.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    return [value.value]
                if isinstance(value, (ast.List, ast.Tuple)):
                    names = [e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
                    if names:
                        return names
                raise TraceError(path, "DEFINITION", "must be a string (or list of strings) naming the definition it solves")
    return None


_REFERENCE_NAME = (f"a kernel may not be named {REFERENCE!r}: the name is the problem's reference's (the baseline, "
                   "which no rule checks); rename it")
# A kernel file's name is its kernel's name in item ids, the report's table and the trace lines: as a solution's
# name, letters, digits, '_', '.' and '-' only. Else a name could hold a carriage return or escape sequences that
# redraw the report, or an invisible character that passes for another kernel's name (red-team round 9, k01).
# A kernel runs beside the files of the folder it is found in: one linked from another folder ran another author's
# code beside this folder's helpers (its own common.py with other constants) under the other's name, or passed their
# work off as its own (red-team round 13, o09, o10), as round 7 refused a solution's sources linked out of its folder.
_LINKED = "a kernel file may not be a link to a file in another folder; it links to"
_UNSAFE_NAME = ("a kernel file's name may hold only letters, digits, '_', '.' and '-' (it names the kernel in item ids "
                "and reports); rename it")


def parse_solution(data: Any, path: Path) -> KernelSpec:
    """Validate a FlashInfer Trace solution object read from ``path``."""
    if not isinstance(data, dict):
        raise TraceError(path, "", "a solution must be a JSON object")
    for key in ("name", "definition"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise TraceError(path, key, "required string field is missing")
    if not SAFE_NAME.fullmatch(data["name"]):
        raise TraceError(path, "name", f"{data['name']!r} may hold only letters, digits, '_', '.' and '-' (it names "
                         "the folder its sources are written to)")
    if data["name"] == REFERENCE:
        raise TraceError(path, "name", _REFERENCE_NAME)
    spec = data.get("spec")
    if not isinstance(spec, dict):
        raise TraceError(path, "spec", "required object is missing")
    entry = spec.get("entry_point")
    if not isinstance(entry, str) or entry.count("::") != 1:
        raise TraceError(path, "spec.entry_point", "must be 'file::function'")
    entry_file, entry_symbol = entry.split("::")
    raw_sources = data.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        raise TraceError(path, "sources", "must list at least one {path, content}")
    sources = []
    for i, src in enumerate(raw_sources):
        rel = src.get("path") if isinstance(src, dict) else None
        if not isinstance(rel, str) or rel.startswith("/") or ".." in Path(rel).parts or "\0" in rel:
            raise TraceError(path, f"sources[{i}].path", "must be a relative path without '..' (and no NUL)")
        content = src.get("content") or ""
        if not content:
            content = _read_beside(path, rel, f"sources[{i}].content")
        sources.append((rel, content))
    if entry_file not in {rel for rel, _ in sources}:
        raise TraceError(path, "spec.entry_point", f"names {entry_file!r}, which is not among the sources")
    languages = spec.get("languages") or [spec.get("language") or "python"]
    languages = [str(x).lower() for x in (languages if isinstance(languages, list) else [languages])]
    unknown = [x for x in languages if x not in PYTHON_LANGUAGES | CUDA_LANGUAGES]
    if unknown:
        raise TraceError(path, "spec.languages", f"unknown language {unknown[0]!r}")
    is_cuda = any(x in CUDA_LANGUAGES for x in languages) or not entry_file.endswith(".py")
    dps = spec.get("destination_passing_style", True)
    return KernelSpec(
        name=data["name"],
        definition=data["definition"],
        path=path,
        language="cuda" if is_cuda else "python",
        entry_file=entry_file,
        entry_symbol=entry_symbol,
        sources=tuple(sources),
        destination_passing=bool(dps),
        author=str(data.get("author") or ""),
        languages=tuple(languages),
    )


def _read_beside(path: Path, rel: str, field: str) -> str:
    """The file ``rel`` beside a solution's JSON, for a source given without content. Read with the session's rights
    (root, often) and handed to the kernel's process: so only a file that really lies in the solution's folder, never
    through a link out of it (red-team round 7: a link to a root-only file, or to /proc/self/environ, gave a confined
    kernel what it could not read itself)."""
    beside = path.parent / rel
    try:
        folder, real = path.parent.resolve(), beside.resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a link loop (RuntimeError before 3.13), a NUL (round 14, q10)
        raise TraceError(path, field, f"is empty and {beside} cannot be resolved: {exc}") from None
    if not real.is_relative_to(folder):
        raise TraceError(path, field, f"is empty and {beside} leads out of the solution's folder (a link to {real}); "
                         "a source must be a file in that folder")  # fmt: skip
    if not real.is_file():
        raise TraceError(path, field, f"is empty and {beside} does not exist")
    try:
        return real.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise TraceError(path, field, f"is empty and {beside} cannot be read: {exc}") from None


def discover(dirs: list[Path]) -> tuple[list[KernelSpec], list[TraceError]]:
    """Every kernel under the given folders (or files), and the files that look like kernels but are broken.

    One file's content never stops the others being found: what reading it raises (a NUL byte, nesting too deep, a
    number too long for ``int``) is that file's collection error (red-team round 14, q10)."""
    kernels: list[KernelSpec] = []
    errors: list[TraceError] = []
    for top in dirs:
        for path in _files(top):
            try:
                kernels += _kernels_in(path)
            except TraceError as exc:
                errors.append(exc)
            except (ValueError, MemoryError, RecursionError) as exc:
                errors.append(TraceError(path, "", f"cannot be read as a kernel: {_why(exc)}"))
    return kernels, errors


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _files(top: Path) -> list[Path]:
    """The files under ``top`` (or ``top`` itself) that may hold a kernel. Hidden folders and caches below the
    folder given are skipped; the path given itself may hold any (``--kernel-dir ../kernels``, a kernel folder under
    ``~/.cache``)."""
    if top.is_file():
        return [top]
    files = sorted(p for p in top.rglob("*") if p.is_file())
    return [p for p in files if not any(part.startswith(".") or part == "__pycache__"
                                        for part in p.relative_to(top).parts)]  # fmt: skip


def _kernels_in(path: Path) -> list[KernelSpec]:
    """The kernels one file holds (none for a file that is no kernel); raises TraceError for a broken one."""
    if path.suffix == ".py":
        names = _module_definition(path)
        if not names:
            return []
        if path.stem == REFERENCE:
            raise TraceError(path, "file name", _REFERENCE_NAME)
        if not SAFE_NAME.fullmatch(path.stem):
            raise TraceError(path, "file name", _UNSAFE_NAME)
        if path.resolve().parent != path.parent.resolve():
            raise TraceError(path, "file name", f"{_LINKED} {path.resolve()}")
        return [KernelSpec(path.stem, name, path, "python", path.name, "run") for name in names]
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text())
        except (ValueError, OSError, RecursionError):  # not JSON: no solution (a config file, a draft)
            return []
        if isinstance(data, dict) and "spec" in data and "sources" in data and "definition" in data:
            return [parse_solution(data, path)]
    return []


def one_per_name(kernels: list[KernelSpec], errors: list[TraceError]) -> tuple[list[KernelSpec], list[TraceError]]:
    """The kernels of one run, one per definition and name: item ids, trace lines and saved runs know a kernel by
    its name, so two ``rmsnorm.py`` from two folders gave two items of one id, indistinguishable in every report. A
    file found twice (a folder and a file in it, both given) counts once.

    Kernels of one name from different folders (two submissions, each with its ``rmsnorm.py``) each take the name of
    their folder in front (``team_a.rmsnorm``, ``team_b.rmsnorm``): keeping the first found let a folder listed first
    take an honest kernel's place under its name (red-team round 8, j02), and refusing both let one author keep
    another's kernel from running by naming a kernel like it (round 11, m02). A kernel whose own name is such a
    qualified name is refused, not the pair it would block (round 13, o02). Where folders cannot tell them apart
    (one folder), none of them runs: each is a collection error naming them all."""
    by_name: dict[tuple[str, str], dict[Path, KernelSpec]] = {}
    for spec in kernels:
        by_name.setdefault((spec.definition, spec.name), {}).setdefault(spec.path.resolve(), spec)
    singles = {key: next(iter(found.values())) for key, found in by_name.items() if len(found) == 1}
    qualified_sets, clashes, claimed = [], [], set()
    for (definition, name), found in by_name.items():
        specs = list(found.values())
        if len(specs) == 1:
            continue
        qualified = _qualified(specs)
        keys = {(definition, spec.name) for spec in qualified}
        if len(keys) == len(qualified) and not claimed & keys:
            claimed |= keys
            qualified_sets.append(qualified)
        else:
            clashes.append((definition, name, specs))
    for key in claimed & set(singles):  # a kernel named like another folder's kernel qualified by its folder
        taker = singles.pop(key)
        field = "name" if taker.path.suffix == ".json" else "file name"
        errors.append(TraceError(taker.path, field, f"{key[1]!r} is the name another folder's kernel runs under, "
                                 "its folder's name in front; rename this one (round 13, o02)"))  # fmt: skip
    unique = [*singles.values(), *(spec for qualified in qualified_sets for spec in qualified)]
    for definition, name, specs in clashes:
        paths = ", ".join(str(spec.path) for spec in specs)
        for spec in specs:
            field = "name" if spec.path.suffix == ".json" else "file name"
            errors.append(TraceError(spec.path, field, f"{len(specs)} kernels for {definition} are named {name!r} "
                                     f"({paths}) and their folders do not tell them apart; none of them runs: rename "
                                     "all but one (reports and saved runs know a kernel by name)"))  # fmt: skip
    return unique, errors


def _qualified(specs: list[KernelSpec]) -> list[KernelSpec]:
    """Each spec named ``<folder>.<name>``, its folder's path below the folders the specs share, with ``.`` between
    the parts; every character a name may not hold (``SAFE_NAME``) becomes ``_``."""
    folders = [spec.path.resolve().parent for spec in specs]
    common = Path(os.path.commonpath(folders))
    labels = []
    for folder in folders:
        parts = folder.relative_to(common).parts if folder != common else ()
        if not parts:  # this spec's folder holds the others': its own name stands for it
            parts = (folder.name or "root",)
        labels.append(".".join(re.sub(r"[^A-Za-z0-9_-]", "_", part) for part in parts))
    return [replace(spec, name=f"{label}.{spec.name}") for spec, label in zip(specs, labels)]

"""Finding kernels under ``--kernel-dir`` statically: nothing is imported at collection.

A FlashInfer Trace ``solution.json`` is validated field by field; a Python module is a kernel when it assigns
``DEFINITION = "<definition name>"`` (read from its syntax tree). A file that looks like a kernel but is broken
becomes a ``TraceError`` naming file and field, reported as a failing item while the others run.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

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
        where = f"line {exc.lineno}" if exc.lineno else ""  # a NUL byte: a SyntaxError with no line on 3.11.7+
        raise TraceError(path, where, f"syntax error: {exc.msg}") from None
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
        if not isinstance(content, str):  # a list there reached the static rules' parser: a traceback (round 14)
            raise TraceError(path, f"sources[{i}].content", "must be a string (the file's text)")
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


def one_per_name(kernels: list[KernelSpec], errors: list[TraceError],
                 dirs: Sequence[Path] = ()) -> tuple[list[KernelSpec], list[TraceError]]:  # fmt: skip
    """The kernels of one run, each under a label of its own: item ids, trace lines (``solution``) and saved runs
    know a kernel by it. A file found twice (a folder and a file in it, both given) counts once.

    A kernel keeps its own name when no other kernel of its definition has it. Kernels of one name (two submissions,
    each with its ``rmsnorm.py``) each run under their place (``_place_labels``): keeping the first found let a folder
    listed first take an honest kernel's place (red-team round 8, j02), refusing both let one author keep another's
    kernel from running (round 11, m02). A kernel whose own name is another's place label runs under its own place
    too: refusing it let a pair of folders take an honest kernel's dotted name, ``rms_v1/2.py`` as ``rms_v1.2``
    (round 14, q09, after round 13, o02), and so does one whose dotted name reads as a place of this run, another
    author's folder first (``team_b/team_a.rms.py``, round 15, r03). Only kernels left with one label between them are refused: two labels are
    alike only where their paths part inside one folder, so one author's files never decide whether another
    author's kernel runs (q02)."""
    found: dict[tuple[str, Path], KernelSpec] = {}
    for spec in kernels:
        found.setdefault((spec.definition, spec.path.resolve()), spec)
    specs = list(found.values())
    labels = _labels(specs, list(dirs))
    count = Counter((spec.definition, label) for spec, label in zip(specs, labels))
    unique = [replace(spec, name=label) for spec, label in zip(specs, labels) if count[spec.definition, label] == 1]
    for spec, label in zip(specs, labels):
        if count[spec.definition, label] > 1:
            alike = [str(s.path) for s, x in zip(specs, labels) if (s.definition, x) == (spec.definition, label)]
            field = "name" if spec.path.suffix == ".json" else "file name"
            errors.append(TraceError(spec.path, field, f"{len(alike)} kernels for {spec.definition} would run as "
                                     f"{label!r} ({', '.join(alike)}) and their names and folders do not tell them "
                                     "apart; none of them runs: rename all but one (reports and saved runs know a "
                                     "kernel by name)"))  # fmt: skip
    return unique, errors


def _labels(specs: list[KernelSpec], dirs: list[Path]) -> list[str]:
    """Each spec's label: its own name, or its place label where its name is another's name or place label, or where
    it holds a ``.``: a dotted name reads as a place (``team_b/team_a.rms.py`` kept ``team_a.rms``, A's folder, while
    A's only ``rms`` kept the bare name, red-team round 15, r03; a rule that placed only dotted names starting like
    some folder of the run missed folders further down or in another --kernel-dir, round 16, s08, s09). So a plain
    label never holds a ``.`` and a place label always starts with its own submission's folder."""
    names = Counter((spec.definition, spec.name) for spec in specs)
    places = _place_labels(specs, dirs)
    placed = [names[spec.definition, spec.name] > 1 or "." in spec.name for spec in specs]
    while True:
        labels = [place if at else spec.name for spec, place, at in zip(specs, places, placed)]
        taken = {(spec.definition, label) for spec, label, at in zip(specs, labels, placed) if at}
        more = [i for i, spec in enumerate(specs) if not placed[i] and (spec.definition, spec.name) in taken]
        if not more:
            return labels
        for i in more:
            placed[i] = True


_PLAIN_PART = re.compile(r"[A-Za-z0-9_-]+")
_DIGEST_HEX = 12  # 48 bits: 6 (24 bits) was matched by a search over one-character variants of a name in seconds
_LOOKS_READ = re.compile(rf"[A-Za-z0-9_-]*-[0-9a-f]{{{_DIGEST_HEX}}}")
_BESIDE_ROOT = "a first-level folder named like the kernel-dir:"


def _part(name: str, salt: str = "") -> str:
    """A folder's name as one part of a place label, which never holds the ``.`` between the parts: the name itself
    where it holds only letters, digits, ``_`` and ``-``; else with ``_`` for the others and a digest of the real name,
    so that folders ``x.y`` and ``x_y`` never give one label (red-team round 14, q02).

    One-to-one: a plain name that looks like a read one (ends with ``-`` and 12 hex digits) is read too, so the
    folder ``alice_smith-<digest>`` never reads as ``alice.smith`` (round 15, r02). A ``salt`` reads a name another
    way (a digest of salt and name, whatever the name), for a folder that must not read as it would elsewhere (r05)."""
    if not salt and _PLAIN_PART.fullmatch(name) and not _LOOKS_READ.fullmatch(name):
        return name
    digest = hashlib.sha1((salt + name).encode("utf-8", "surrogateescape")).hexdigest()[:_DIGEST_HEX]
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', name)}-{digest}"


def _root(top: Path) -> Path:
    """The folder a --kernel-dir's places are counted from: itself, or a kernel file's folder."""
    return top.parent if top.is_file() else top


def _dir_parts(dirs: list[Path]) -> list[str]:
    """The part that names each --kernel-dir: its folder's name; where two folders share a name (two graders'
    ``submissions/``), the place on the command line too, so that no two folders read alike."""
    roots = [_root(top).resolve() for top in dirs]
    parts = [_part(root.name or "root") for root in roots]
    shared = {part for part, root in zip(parts, roots) if len({r for p, r in zip(parts, roots) if p == part}) > 1}
    parts = [f"{part}-{roots.index(root) + 1}" if part in shared else part for part, root in zip(parts, roots)]
    if len(set(parts)) != len(set(roots)):  # a folder named like 'subs-2' beside two named 'subs'
        parts = [f"kernel-dir-{roots.index(root) + 1}" for root in roots]
    return parts


def _place_labels(specs: list[KernelSpec], dirs: list[Path]) -> list[str]:
    """``<place>.<name>`` for each spec: its folders below the --kernel-dir it was found under (the first that
    holds it), that folder's part first when several were given, ``.`` between the parts.

    Counted from the --kernel-dir, not from the folders of the kernels that share a name: a submission's subfolder
    ``team_b/team_a/`` labelled B's kernel ``team_a.rmsnorm``, A's folder name (red-team round 14, q06), and a pair
    ``team_b/rms_v1/2.py`` ran as ``rms_v1.2``, another author's kernel's name (q09). Counted so, a place label
    starts with the submission's own folder (the grader's ``--kernel-dir submissions/``: its folder there; one
    --kernel-dir each: that folder's name), and two labels can be alike only where the folders of one submission
    make them so. A kernel lying in the --kernel-dir itself takes that folder's name for its place; a first-level
    subfolder read like that name is read another way (``_sub_part``), so that ``kernels/kernels/rms.py`` never takes
    the label of ``kernels/rms.py`` (round 15, r05)."""
    parts = _dir_parts(dirs)
    labels = []
    for spec in specs:
        i = next((i for i, top in enumerate(dirs) if spec.path == top or top in spec.path.parents), None)
        root = spec.path.parent if i is None else _root(dirs[i])
        if i is not None and len(set(parts)) > 1:
            place = [parts[i], *(_part(name) for name in spec.path.parent.relative_to(root).parts)]
        else:
            below = spec.path.parent.relative_to(root).parts
            place = [_sub_part(root, below[0]), *(_part(name) for name in below[1:])] if below else [_root_part(root)]
        labels.append(".".join([*place, spec.name]))
    return labels


def _root_part(root: Path) -> str:
    """The place of a kernel lying in the one --kernel-dir itself: that folder's name."""
    return _part(root.resolve().name or "root")


def _sub_part(root: Path, name: str) -> str:
    """A first-level subfolder of the one --kernel-dir as the first part of a place label: read as any folder, unless
    it reads as the --kernel-dir's own part (the place of a kernel lying in it), then read another way (a salted
    digest, which no other folder's reading gives)."""
    part = _part(name)
    return _part(name, salt=_BESIDE_ROOT) if part == _root_part(root) else part

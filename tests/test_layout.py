"""The package's layout as a rule: subpackages one job each, no cycle between them, modules of a readable size."""

from __future__ import annotations

import ast
from pathlib import Path


PACKAGE = Path(__file__).resolve().parent.parent / "pytest_solbench"
# The crossing contracts: plain types every room may import (the worker's request and outcome, an item's record).
CONTRACTS = {"protocol", "record"}
ROOMS = {"data", "sol", "worker", "measure", "guard", "reports", "captures", "judge"}
MAX_LINES = 400


def _room(path: Path) -> str:
    """The room a module lives in: a subpackage's name, 'contracts', or 'front' (the pytest-facing top)."""
    parts = path.relative_to(PACKAGE).parts
    if len(parts) > 1:
        return parts[0]
    return "contracts" if path.stem in CONTRACTS else "front"


def _target_room(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "pytest_solbench" or len(parts) == 1:
        return None
    if parts[1] in ROOMS or parts[1] == "problems":
        return parts[1]
    return "contracts" if parts[1] in CONTRACTS else "front"


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        source = _room(path)
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                bare = node.module == "pytest_solbench"  # from pytest_solbench import options
                names = [f"pytest_solbench.{a.name}" for a in node.names] if bare else [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                target = _target_room(name)
                if target and target != source:
                    edges.setdefault(source, set()).add(target)
    return edges


def test_every_room_is_a_subpackage_with_a_docstring() -> None:
    for room in ROOMS:
        init = PACKAGE / room / "__init__.py"
        assert init.is_file(), f"{room}/ has no __init__.py"
        assert ast.get_docstring(ast.parse(init.read_text())), f"{room}/__init__.py says nothing about the room's job"


def test_no_relative_imports_across_rooms() -> None:
    """Imports name their room (``pytest_solbench.sol.bound``) so a reader sees where a name comes from."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []


def test_rooms_import_no_cycle_and_never_the_front() -> None:
    edges = _edges()
    # Only the front (plugin, options, session, items, pipeline and its steps, target, gates) may import the front.
    upward = {room for room, targets in edges.items() if "front" in targets and room != "front"}
    assert upward == set(), f"rooms that import the pytest front: {sorted(upward)}"
    # The contracts import no room at all: they are plain types.
    assert edges.get("contracts", set()) == set(), edges.get("contracts")

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in edges.get(node, ()):
                if nxt == start:
                    return [*path, nxt]
                if nxt not in path:
                    stack.append((nxt, [*path, nxt]))
        return None

    cycles = [c for c in (cycle_from(room) for room in edges) if c]
    assert cycles == [], " ; ".join(" -> ".join(c) for c in cycles)


def test_long_modules_say_why() -> None:
    """A module over 400 lines is a smell unless its docstring says why it is long ('long:')."""
    long = []
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text().count("\n")
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if lines > MAX_LINES and "long:" not in doc.lower():
            long.append(f"{path.relative_to(PACKAGE)} ({lines} lines)")
    assert long == [], long

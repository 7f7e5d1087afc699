"""The pointer-cache rule's analysis: values that carry an object's identity (``data_ptr()``, ``id()``, ``hash()``,
``tobytes()``, ``_version``), followed through local assignments, and the places they are used as a key, a
membership test, an equality with a kept value or state stored between calls. A pointer reduced to a few bits for
an alignment check (``x.data_ptr() % 16 == 0``) carries no identity and passes.
"""

from __future__ import annotations

import ast
from typing import Callable, Iterator

Resolve = Callable[[ast.AST], "str | None"]
_POINTER_METHODS = {"data_ptr", "tobytes", "_cdata", "_version", "__hash__", "untyped_storage", "storage"}
_KEY_METHODS = {"get", "setdefault", "pop", "__contains__", "__getitem__", "__setitem__"}
_KEY_COMPARISONS = (ast.In, ast.NotIn, ast.Eq, ast.NotEq, ast.Is)


def _is_pointerish(node: ast.AST, resolve: Resolve, tainted: set[str]) -> bool:
    for sub in _identity_parts(node):
        if isinstance(sub, ast.Name) and sub.id in tainted:
            return True
        if isinstance(sub, ast.Attribute) and sub.attr in _POINTER_METHODS:
            return True
        if isinstance(sub, ast.Call):
            func = resolve(sub.func) or ""
            if func in ("builtins.id", "builtins.hash") or func.startswith("hashlib"):
                return True
    return False


def _identity_parts(node: ast.AST) -> Iterator[ast.AST]:
    """The sub-expressions of ``node`` that can carry an object's identity: not those reduced to a few bits
    (``p % 16``, ``p & 15``, with a constant of at most 256) or to a truth value (``p == 0``), as alignment checks
    are; a comparison of two pointers is judged where it is made."""
    pending = [node]
    while pending:
        sub = pending.pop()
        if isinstance(sub, ast.BinOp) and isinstance(sub.op, (ast.Mod, ast.BitAnd)) and _small(sub.right):
            continue
        if isinstance(sub, ast.Compare) and all(isinstance(c, ast.Constant) for c in sub.comparators):
            continue
        yield sub
        pending.extend(ast.iter_child_nodes(sub))


def _small(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and 0 < node.value <= 256


def pointer_keys(tree: ast.Module, resolve: Resolve) -> list[ast.AST]:
    """Pointer-like values (data_ptr, id, hash, tobytes, _version) used as keys, membership tests or stored state."""
    found: list[ast.AST] = []
    scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for scope in scopes:
        tainted: set[str] = set()
        stored: set[str] = {n for g in ast.walk(scope) if isinstance(g, (ast.Global, ast.Nonlocal)) for n in g.names}
        for _ in range(2):
            for node in ast.walk(scope):
                if isinstance(node, ast.Assign) and _is_pointerish(node.value, resolve, tainted):
                    tainted |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        for node in ast.walk(scope):
            key = None
            if isinstance(node, ast.Subscript):
                key = node.slice
            elif isinstance(node, ast.Compare) and isinstance(node.ops[0], _KEY_COMPARISONS):
                rhs = node.comparators[0]  # a membership test, or an equality with a pointer kept from before
                kept = isinstance(node.ops[0], (ast.In, ast.NotIn)) or isinstance(rhs, (ast.Name, ast.Attribute))
                key = node.left if kept else None
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _KEY_METHODS:
                key = node.args[0] if node.args else None
            elif isinstance(node, ast.Dict):
                key = ast.Tuple(elts=[k for k in node.keys if k is not None], ctx=ast.Load())
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, (ast.Attribute, ast.Subscript)) or (isinstance(t, ast.Name) and t.id in stored)
                for t in node.targets
            ):
                key = node.value
            if key is not None and _is_pointerish(key, resolve, tainted):
                found.append(node)
    return found

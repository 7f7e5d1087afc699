"""A kernel module's int constants, for the pointer-cache rule: ``VEC_BYTES = 16`` makes ``p % VEC_BYTES`` and
``p & (VEC_BYTES - 1)`` alignment checks as the literals are (red-team rounds 70 and 71, ew-FV2, ex-FV1 to FV4).

A name is a constant where the module binds it once, at its top level, to an int expression of constants
(``A = 16``, ``A: int = 16``, ``A, B = 16, 8``), and nowhere else: no other binding at the top level in any form
(assignment, loop, ``with``, import, ``def``, ``except ... as``, a ``match`` capture, ``del``), no ``global`` of it in a
function, and no attribute of that name stored by any of the kernel's files (``align.VEC_BYTES = 1 << 62`` from
another file, round 71, ex03). A use inside a function that binds the name itself (a parameter, a Triton kernel's
``VEC_BYTES: tl.constexpr``) reads the function's own, not the module's.
"""

from __future__ import annotations

import ast
import operator
from collections import Counter
from typing import Callable

_OPS: dict[type, Callable[[int, int], int]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod, ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitOr: operator.or_,
    ast.BitAnd: operator.and_, ast.BitXor: operator.xor,
}  # fmt: skip
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_SCOPES = (*_FUNCTIONS, ast.ClassDef)


class Constants:
    """The int constants of one module, and which names each use site reads from a scope of its own."""

    def __init__(self, tree: ast.Module, rebound: frozenset[str] = frozenset()) -> None:
        self._shadowed: dict[int, frozenset[str]] = {}  # id(node) -> names bound by the scopes around it
        top: Counter[str] = Counter()
        declared: set[str] = set()  # ``global NAME`` in any function
        self._visit(tree, frozenset(), True, top, declared)
        once = {n for n, count in top.items() if count == 1} - declared - rebound
        self.values: dict[str, int] = {}
        self.top_bound = top
        for stmt in tree.body:
            for name, expr in _simple_bindings(stmt):
                if name in once:
                    value = self.value(expr)
                    if value is not None:
                        self.values[name] = value

    def _visit(self, node: ast.AST, local: frozenset[str], at_top: bool, top: Counter, declared: set[str]) -> None:
        for child in ast.iter_child_nodes(node):
            self._shadowed[id(child)] = local
            if isinstance(child, _SCOPES):
                if at_top and not isinstance(child, ast.Lambda):
                    top[child.name] += 1
                declared.update(n for g in ast.walk(child) if isinstance(g, ast.Global) for n in g.names)
                self._visit(child, local | _bound_in(child), False, top, declared)
            else:
                if at_top:
                    top.update(_binds(child))
                self._visit(child, local, at_top, top, declared)

    def plain(self, name: ast.AST) -> bool:
        """Whether a name read here is the module's, bound at most once at its top level (an import)."""
        return isinstance(name, ast.Name) and name.id not in self._shadowed.get(id(name), frozenset()) and (
            self.top_bound[name.id] <= 1)  # fmt: skip

    def module_level(self, name: ast.AST) -> bool:
        """Whether a name read here is one the module binds at its top level, not the reading scope's own."""
        return isinstance(name, ast.Name) and name.id not in self._shadowed.get(id(name), frozenset()) and (
            self.top_bound[name.id] >= 1)  # fmt: skip

    def value(self, node: ast.AST) -> int | None:
        """The int ``node`` stands for, from literals and the module's constants, or None."""
        if isinstance(node, ast.Constant):
            return node.value if type(node.value) is int else None
        if isinstance(node, ast.Name):
            shadowed = node.id in self._shadowed.get(id(node), frozenset())
            return None if shadowed else self.values.get(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Invert)):
            inner = self.value(node.operand)
            return None if inner is None else -inner if isinstance(node.op, ast.USub) else ~inner
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = self.value(node.left), self.value(node.right)
            if left is None or right is None or (isinstance(node.op, (ast.LShift, ast.RShift)) and not 0 <= right <= 64):
                return None
            try:
                return _OPS[type(node.op)](left, right)
            except ZeroDivisionError:
                return None
        return None

    def small(self, node: ast.AST) -> bool:
        """A modulus or mask that leaves a pointer a few bits: an int from 1 to 256."""
        value = self.value(node)
        return value is not None and 0 < value <= 256


NONE = Constants(ast.Module(body=[], type_ignores=[]))


def _simple_bindings(stmt: ast.stmt) -> list[tuple[str, ast.AST]]:
    """(name, value) of a top-level ``A = e``, ``A: T = e`` or ``A, B = e1, e2``."""
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
        return [(stmt.target.id, stmt.value)]
    if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
        return []
    target, value = stmt.targets[0], stmt.value
    if isinstance(target, ast.Name):
        return [(target.id, value)]
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
        return [(t.id, v) for t, v in zip(target.elts, value.elts) if isinstance(t, ast.Name)]
    return []


def _binds(node: ast.AST) -> list[str]:
    """The names ``node`` itself binds in the scope it stands in."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return [node.id]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [node.name]
    if isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
        return [node.name]
    if isinstance(node, ast.MatchMapping) and node.rest:
        return [node.rest]
    return []


def _bound_in(scope: ast.AST) -> frozenset[str]:
    """The names a function or class binds for itself (its parameters too), less those it declares global; nested
    scopes' own are theirs, but counted here too, which only makes fewer names constants."""
    names: set[str] = set()
    if isinstance(scope, _FUNCTIONS):
        args = scope.args
        names |= {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a}
    for node in ast.walk(scope):
        if node is not scope:
            names.update(_binds(node))
            if isinstance(node, _SCOPES) and not isinstance(node, ast.Lambda):
                names.add(node.name)
    globals_ = {n for g in ast.walk(scope) if isinstance(g, ast.Global) for n in g.names}
    return frozenset(names - globals_)

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
    """The int constants of one module and of its functions, and which names each use site reads from a scope of its
    own. A constant may stand for a few values (``32 if blackwell else 16``: red-team round 72, ez-FV3)."""

    def __init__(self, tree: ast.Module, rebound: frozenset[str] = frozenset()) -> None:
        self._shadowed: dict[int, frozenset[str]] = {}  # id(node) -> names bound by the scopes around it
        self._owner: dict[int, ast.AST] = {}  # id(node) -> the innermost function or class around it
        self._locals: dict[int, dict[str, frozenset[int]]] = {}  # id(scope) -> its own constants
        top: Counter[str] = Counter()
        declared: set[str] = set()  # ``global NAME`` in any function
        self._visit(tree, frozenset(), None, top, declared)
        once = {n for n, count in top.items() if count == 1} - declared - rebound
        if top["*"]:  # ``from helper import *`` may bind any name (red-team round 72, ez02)
            once = set()
        self.values: dict[str, frozenset[int]] = {}
        self.top_bound = top
        self._constants(tree.body, once, self.values)

    def _visit(self, node: ast.AST, local: frozenset[str], owner: ast.AST | None, top: Counter,
               declared: set[str]) -> None:  # fmt: skip
        for child in ast.iter_child_nodes(node):
            self._shadowed[id(child)], self._owner[id(child)] = local, owner
            if isinstance(child, _SCOPES):
                if owner is None and not isinstance(child, ast.Lambda):
                    top[child.name] += 1
                declared.update(n for g in ast.walk(child) if isinstance(g, ast.Global) for n in g.names)
                self._visit(child, local | _bound_in(child), child, top, declared)
            else:
                if owner is None:
                    top.update(_binds(child))
                self._visit(child, local, owner, top, declared)

    def _constants(self, body: list, once: set[str], into: dict[str, frozenset[int]]) -> None:
        """The simple bindings of ``body`` whose names are in ``once``, in order (a later one may use an earlier)."""
        for stmt in body:
            for name, expr in _simple_bindings(stmt):
                values = self.values_of(expr) if name in once else None
                if values is not None:
                    into[name] = values

    def _own(self, scope: ast.AST) -> dict[str, frozenset[int]]:
        """A function's own constants (``vec_bytes = 16`` in its body, bound once there: round 72, ez-FV4)."""
        if id(scope) not in self._locals:
            own: dict[str, frozenset[int]] = {}
            self._locals[id(scope)] = own  # filled in order below
            counts: Counter[str] = Counter()
            declared: set[str] = set()
            pending = list(ast.iter_child_nodes(scope))
            while pending:
                node = pending.pop()
                counts.update(_binds(node))
                if isinstance(node, (ast.Global, ast.Nonlocal)):
                    declared.update(node.names)
                if isinstance(node, _SCOPES):
                    counts.update([] if isinstance(node, ast.Lambda) else [node.name])
                else:
                    pending.extend(ast.iter_child_nodes(node))
            if isinstance(scope, _FUNCTIONS) and not isinstance(scope, ast.Lambda):
                args = scope.args
                counts.update(a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg,
                                              args.kwarg] if a)  # fmt: skip
            body = scope.body if isinstance(scope.body, list) else []
            self._constants(body, {n for n, c in counts.items() if c == 1} - declared, own)
        return self._locals[id(scope)]

    def plain(self, name: ast.AST) -> bool:
        """Whether a name read here is the module's, bound at most once at its top level (an import)."""
        return isinstance(name, ast.Name) and name.id not in self._shadowed.get(id(name), frozenset()) and (
            self.top_bound[name.id] <= 1)  # fmt: skip

    def module_level(self, name: ast.AST) -> bool:
        """Whether a name read here is one the module binds at its top level, not the reading scope's own."""
        return isinstance(name, ast.Name) and name.id not in self._shadowed.get(id(name), frozenset()) and (
            self.top_bound[name.id] >= 1)  # fmt: skip

    def values_of(self, node: ast.AST) -> frozenset[int] | None:
        """The ints ``node`` may stand for, from literals and constants, or None."""
        if isinstance(node, ast.Constant):
            return frozenset([node.value]) if type(node.value) is int else None
        if isinstance(node, ast.Name):
            if node.id not in self._shadowed.get(id(node), frozenset()):
                return self.values.get(node.id)
            owner = self._owner.get(id(node))
            return None if owner is None else self._own(owner).get(node.id)
        if isinstance(node, ast.IfExp):
            body, orelse = self.values_of(node.body), self.values_of(node.orelse)
            return None if body is None or orelse is None else body | orelse
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Invert)):
            inner = self.values_of(node.operand)
            return None if inner is None else frozenset(-v if isinstance(node.op, ast.USub) else ~v for v in inner)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = self.values_of(node.left), self.values_of(node.right)
            if left is None or right is None or (isinstance(node.op, (ast.LShift, ast.RShift)) and not all(
                    0 <= r <= 64 for r in right)):  # fmt: skip
                return None
            try:
                return frozenset(_OPS[type(node.op)](a, b) for a in left for b in right)
            except ZeroDivisionError:
                return None
        return None

    def value(self, node: ast.AST) -> int | None:
        """The one int ``node`` stands for, or None."""
        values = self.values_of(node)
        return next(iter(values)) if values is not None and len(values) == 1 else None

    def small(self, node: ast.AST) -> bool:
        """A modulus or mask that leaves a pointer a few bits: every value it may take from 1 to 256."""
        values = self.values_of(node)
        return values is not None and all(0 < v <= 256 for v in values)


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

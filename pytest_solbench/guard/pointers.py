"""The pointer-cache rule's analysis: values that carry an object's identity (``data_ptr()``, ``id()``, ``hash()``,
``tobytes()``, ``_version``), followed through local assignments, and the places they are used as a key, a
membership test, an equality with a kept value or state stored between calls. A pointer reduced to a few bits for
an alignment check (``x.data_ptr() % 16 == 0``) carries no identity and passes.
"""

from __future__ import annotations

import ast
from typing import Callable, Iterator

from pytest_solbench.guard.constants import NONE, Constants

Resolve = Callable[[ast.AST], "str | None"]
_POINTER_METHODS = {"data_ptr", "tobytes", "_cdata", "_version", "__hash__", "untyped_storage", "storage",
                    "ctypes", "__array_interface__", "__cuda_array_interface__"}  # x.numpy().ctypes.data
_KEY_METHODS = {"get", "setdefault", "pop", "__contains__", "__getitem__", "__setitem__"}
_KEY_COMPARISONS = (ast.In, ast.NotIn, ast.Eq, ast.NotEq, ast.Is)
#: What a storage or tensor says about its size or kind: no identity left (``x.untyped_storage().nbytes()``).
_SIZE_METHODS = {"nbytes", "size", "element_size", "nelement", "numel", "dtype", "device", "shape", "dim", "ndim",
                 "is_contiguous", "stride", "resizable", "is_pinned"}  # fmt: skip


def _is_pointerish(node: ast.AST, resolve: Resolve, tainted: set[str], consts: Constants = NONE) -> bool:
    for sub in _identity_parts(node, consts, resolve):
        if isinstance(sub, ast.Name) and sub.id in tainted:
            return True
        if isinstance(sub, ast.Attribute) and sub.attr in _POINTER_METHODS:
            return True
        if isinstance(sub, ast.Call):
            func = resolve(sub.func) or ""
            if isinstance(sub.func, ast.Name) and sub.func.id in tainted:  # a helper that returns a pointer
                return True
            if func == "builtins.hash" and sub.args and _plain_hashed(sub.args[0], resolve):
                continue  # hash((rows, cols)), hash(tuple(x.shape)), hash(x.shape): plain values, judged on their own
            if func in ("builtins.id", "builtins.hash") or func.startswith("hashlib") or func.endswith(
                    "byte_bounds"):  # numpy's byte_bounds(a): the addresses of an array's memory
                return True
    return False


def _plain_hashed(node: ast.AST, resolve: Resolve) -> bool:
    """What ``hash()`` of carries no identity of its own: a tuple, list or constant (its elements judged on their
    own), a shape or size (``x.shape``, ``x.size()``: red-team round 73, fa-FV5), or ``tuple(...)`` of one."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _SIZE_METHODS:
        return True
    return isinstance(node, (ast.Tuple, ast.List, ast.Constant)) or (
        isinstance(node, ast.Attribute) and node.attr in _SIZE_METHODS) or (
        isinstance(node, ast.Call) and _sequence(node.func, resolve))  # fmt: skip


#: Calls that pass a pointer on whole (``int(p)``, ``str(p)``, ``(p,)`` as a list): not a reduction of it
_PASSING_ON = {"builtins.int", "builtins.str", "builtins.hex", "builtins.repr", "builtins.format", "builtins.tuple",
               "builtins.list", "builtins.frozenset"}


def _raw(node: ast.AST, resolve: Resolve, raw: set[str]) -> bool:
    """Whether ``node`` is a pointer as taken, passed on whole (``x.data_ptr()``, ``int(p)``, ``(p, q)``, ``p + 0``,
    ``f"{p}"``, a name bound to one), not a value computed from one by a call or arithmetic (``min(16, p & -p)``,
    ``math.gcd(p, VEC_BYTES)``, an own helper's alignment). A memoized function's arguments are judged so (red-team
    round 73, fa-FV1 to FV4: honest launch-config caches keyed by an alignment failed); a key computed from a pointer
    there is left to the run-time checks, where the first call after the timed ones is on new values written into a
    timed set's own memory (``judge.timed._calls_after``)."""
    if isinstance(node, ast.Name):
        return node.id in raw
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_raw(e, resolve, raw) for e in node.elts)
    if isinstance(node, ast.Starred):
        return _raw(node.value, resolve, raw)
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):  # [t.data_ptr() for t in ts]
        return _raw(node.elt, resolve, raw | _raw_names(node, resolve))
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return _raw(node.left, resolve, raw) or _raw(node.right, resolve, raw)
    if isinstance(node, ast.JoinedStr):
        return any(_raw(v.value, resolve, raw) for v in node.values if isinstance(v, ast.FormattedValue))
    if isinstance(node, ast.Subscript):  # ptrs[0], x.__cuda_array_interface__["data"][0]
        return _raw(node.value, resolve, raw)
    if isinstance(node, ast.Attribute):
        return node.attr in _POINTER_METHODS or _raw(node.value, resolve, raw) and node.attr not in _SIZE_METHODS
    if isinstance(node, ast.Call):
        func = resolve(node.func) or (f"builtins.{node.func.id}" if isinstance(node.func, ast.Name) else "")
        if isinstance(node.func, ast.Attribute) and node.func.attr in _POINTER_METHODS:
            return True
        if func == "builtins.hash":
            return not (node.args and _plain_hashed(node.args[0], resolve))
        if func == "builtins.id" or func.startswith("hashlib") or func.endswith("byte_bounds"):
            return True
        return func in _PASSING_ON and any(_raw(a, resolve, raw) for a in node.args)
    return False


def _raw_names(scope: ast.AST, resolve: Resolve) -> set[str]:
    """The local names of ``scope`` bound to a pointer as taken (``_raw``), through every form of assignment."""
    return _bound(scope, set(), lambda value, names: _raw(value, resolve, names))


def _identity_parts(node: ast.AST, consts: Constants = NONE, resolve: Resolve = lambda _: None,
                    ) -> Iterator[ast.AST]:  # fmt: skip
    """The sub-expressions of ``node`` that can carry an object's identity: not those reduced to a few bits
    (``p % 16``, ``p & 15``, with a constant of at most 256) or to a truth value (``p == 0``), as alignment checks
    are, the constant written as a literal or as a module's name bound once to one (``p % VEC_BYTES``, red-team round
    70, ew-FV2), or ``math.gcd(p, 16)``; a comparison of two pointers is judged where it is made."""
    pending = [node]
    while pending:
        sub = pending.pop()
        if isinstance(sub, ast.BinOp) and isinstance(sub.op, (ast.Mod, ast.BitAnd)) and consts.small(sub.right) and (
                not _shifted(sub.left)):  # not (p >> 8) & 255: eight such bytes rebuild the address (round 72, ez01)
            continue
        if isinstance(sub, ast.Call) and resolve(sub.func) == "math.gcd" and consts.plain(_root(sub.func)) and any(
                consts.small(a) for a in sub.args):  # not a gcd rebound after its import (round 71, ex04)
            continue
        if isinstance(sub, ast.Compare) and all(isinstance(c, ast.Constant) for c in sub.comparators):
            continue
        if isinstance(sub, ast.Attribute) and sub.attr in _SIZE_METHODS:
            if isinstance(sub.value, ast.Name):  # a name that holds a pointer is judged (round 72, ez04: .shape=p)
                pending.append(sub.value)
            continue
        yield sub
        pending.extend(ast.iter_child_nodes(sub))


_CACHES = ("functools.cache", "functools.lru_cache")
#: A module-level container's methods that keep or look up an element (``_SEEN.append(p)``, ``_SEEN.index(p)``)
_STORE_METHODS = {"append", "extend", "insert", "add", "update", "index", "count", "remove", "appendleft"}


def _sequence(func: ast.AST, resolve: Resolve) -> bool:
    """``tuple`` or ``list`` of the builtins (the kernel's own names resolve elsewhere)."""
    name = resolve(func) or (f"builtins.{func.id}" if isinstance(func, ast.Name) else "")
    return name in ("builtins.tuple", "builtins.list")


def _shifted(node: ast.AST) -> bool:
    """Whether a pointer's higher bits are brought down in ``node`` (``p >> 8``, ``p // 256``), so that a small mask or
    modulus of it is not an alignment."""
    return any(isinstance(n, ast.BinOp) and isinstance(n.op, (ast.RShift, ast.FloorDiv, ast.Div)) for n in ast.walk(node))


def _called(func: ast.AST) -> str | None:
    """The name a call is made through: ``f`` of ``f(...)`` and of ``K.f(...)``."""
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _memoized(tree: ast.Module, functions: list, resolve: Resolve) -> set[str]:
    """The names of functions whose arguments key a cache: decorated by ``functools.cache`` or ``lru_cache`` in any
    form, made by calling one (``f = functools.lru_cache(64)(impl)``), or another name for one (``g = f``). Their
    arguments are keys: a pointer passed to one replays (red-team rounds 70 and 71, ew, ex01)."""

    def caches(node: ast.AST) -> bool:
        calls = [n for n in ast.walk(node) if isinstance(n, (ast.Call, ast.Name, ast.Attribute))]
        return any((resolve(n.func if isinstance(n, ast.Call) else n) or "") in _CACHES for n in calls)

    def made_from(node: ast.AST, names: set[str]) -> bool:  # memo(f), functools.partial(f, 0), g = f; not f(n)'s result
        if isinstance(node, ast.Name):
            return node.id in names or caches(node)  # from functools import cache; @cache
        if isinstance(node, ast.Call) and resolve(node.func) == "functools.partial":
            return bool(node.args) and made_from(node.args[0], names)
        return caches(node)

    defined = [f for f in functions if not isinstance(f, ast.Lambda)]
    assigned = [(t.id, n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets
                if isinstance(t, ast.Name)]  # fmt: skip
    names: set[str] = set()
    for _ in range(3):
        names |= {name for name, value in assigned if made_from(value, names)}
        names |= {f.name for f in defined if any(made_from(d, names) for d in f.decorator_list)}
    return names


def _root(node: ast.AST) -> ast.AST:
    """``math`` of ``math.gcd``: the name an attribute chain starts from."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node


def _targets(node: ast.AST) -> list[ast.AST]:
    """The names and places an assignment of any form binds (tuple targets unpacked)."""
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.AsyncFor, ast.comprehension)):
        targets = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
    else:
        return []
    flat: list[ast.AST] = []
    while targets:
        target = targets.pop()
        if isinstance(target, (ast.Tuple, ast.List)):
            targets.extend(target.elts)
        else:
            flat.append(target.value if isinstance(target, ast.Starred) else target)
    return flat


def _tainted(scope: ast.AST, resolve: Resolve, tainted: set[str], consts: Constants = NONE) -> set[str]:
    """The local names of ``scope`` that hold a pointer, through every form of assignment (``p: int = ...``,
    ``(p := ...)``, ``p, q = ...``, ``p += ...``, ``for p in ...``)."""
    return _bound(scope, tainted, lambda value, names: _is_pointerish(value, resolve, names, consts))


def _bound(scope: ast.AST, names: set[str], holds: Callable[[ast.AST, set[str]], bool]) -> set[str]:
    """``names`` and every local name of ``scope`` an assignment of any form binds to a value that ``holds`` (given
    the names found so far), to a fixed point over three passes."""
    for _ in range(3):
        for node in ast.walk(scope):
            value = getattr(node, "iter", None) if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) else (
                getattr(node, "value", None))  # fmt: skip
            if value is not None and _targets(node) and holds(value, names):
                names |= {t.id for t in _targets(node) if isinstance(t, ast.Name)}
    return names


def pointer_keys(tree: ast.Module, resolve: Resolve, rebound: frozenset[str] = frozenset()) -> list[ast.AST]:
    """Pointer-like values (data_ptr, id, hash, tobytes, _version) used as keys, membership tests or stored state.
    ``rebound``: attribute names any of the kernel's files stores (``owned.kernel_attributes``), never constants."""
    found: list[ast.AST] = []
    consts = Constants(tree, rebound)
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]
    returns_pointer: set[str] = set()  # def key(t): return t.data_ptr()
    for _ in range(2):
        for function in functions:
            if isinstance(function, ast.Lambda):
                continue
            local = _tainted(function, resolve, set(returns_pointer), consts)
            results = [n.value for n in ast.walk(function) if isinstance(n, ast.Return) and n.value is not None]
            if any(_is_pointerish(r, resolve, local, consts) for r in results):
                returns_pointer.add(function.name)
    memoized = _memoized(tree, functions, resolve)
    fresh: set[int] = set()  # p_out == p_in, both pointers of this call: an aliasing check, nothing kept
    for function in functions:
        kept = {n for g in ast.walk(function) if isinstance(g, (ast.Global, ast.Nonlocal)) for n in g.names}
        assigned = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        fresh |= {id(n) for n in ast.walk(function) if isinstance(n, ast.Compare) and isinstance(
            n.comparators[0], ast.Name) and n.comparators[0].id in assigned - kept}  # fmt: skip
    for scope in [tree, *functions]:
        tainted = _tainted(scope, resolve, set(returns_pointer), consts)
        raw = _raw_names(scope, resolve)  # pointers taken here and passed on whole (rounds 72 and 73)
        stored: set[str] = {n for g in ast.walk(scope) if isinstance(g, (ast.Global, ast.Nonlocal)) for n in g.names}
        for node in ast.walk(scope):
            key = None
            if isinstance(node, ast.Subscript):
                key = node.slice
            elif isinstance(node, ast.Compare) and isinstance(node.ops[0], _KEY_COMPARISONS):
                rhs = node.comparators[0]  # a membership test, or an equality with a pointer kept from before
                kept = isinstance(node.ops[0], (ast.In, ast.NotIn)) or (
                    isinstance(rhs, (ast.Name, ast.Attribute, ast.Subscript)) and id(node) not in fresh)
                key = node.left if kept else None
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _KEY_METHODS:
                key = node.args[0] if node.args else None
            elif isinstance(node, ast.Call) and (_called(node.func) in memoized or (
                    isinstance(node.func, ast.Attribute) and node.func.attr in _STORE_METHODS
                    and consts.module_level(node.func.value))):  # _SEEN.append(p) (round 71, ex06)  # fmt: skip
                if _raw(ast.Tuple(elts=[*node.args, *(k.value for k in node.keywords)], ctx=ast.Load()), resolve, raw):
                    found.append(node)  # an alignment computed from a pointer is no key (round 73, fa-FV1 to FV4)
                continue
            elif isinstance(node, ast.Dict):
                key = ast.Tuple(elts=[k for k in node.keys if k is not None], ctx=ast.Load())
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None and any(
                isinstance(t, (ast.Attribute, ast.Subscript)) or (isinstance(t, ast.Name) and t.id in stored)
                for t in _targets(node)
            ):
                key = node.value
            if key is not None and _is_pointerish(key, resolve, tainted, consts):
                found.append(node)
    return found

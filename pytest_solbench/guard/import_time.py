"""What of a kernel's code runs once, as its module is imported, where no call's inputs exist: a product on constants
there is a table (a Winograd transform's inverse, a polynomial fit of erf), never a call's work (``guard.rules`` lets
numpy's products through there, ``guard.numerics``); and whether that holds (a kernel module first imported inside a
function runs its statements during a call)."""

from __future__ import annotations

import ast
from typing import Iterable


#: scopes whose code runs later than the statement that holds them: a function's body (its decorators and defaults
#: too, kept out to stay simple), a lambda's, a generator expression's
_DEFERRED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.GeneratorExp)


def import_time_callees(tree: ast.Module, elsewhere: frozenset[str] = frozenset()) -> set[int]:
    """The ids of the names called in code that runs once, as the module is imported: its statements and its
    classes' bodies, outside every function, lambda and generator expression, and the bodies of its helpers that only
    that code calls (:func:`_import_only_helpers`). No call's inputs exist there, so a numpy product, solve or fit on
    constants is a table (a Winograd transform's inverse, a polynomial fit of erf: red-team rounds 34, 35 and 41,
    bo FV-1; built in a helper: round 57, dk FV-1), never the call's work; only :func:`lazy_local_import` undoes
    that. ``elsewhere``: the names the kernel's other sources use (a helper one of them imports is not only this
    module's)."""
    helpers: set[str] = set()
    while True:
        found = _called_at_import(tree, helpers)
        more = _import_only_helpers(tree, found, elsewhere) - helpers
        if not more:
            return found
        helpers |= more


#: builtins that use a generator up where they are called: ``dict((n, table(n)) for n in sizes)`` at import builds
#: its tables there (red-team round 59, dq FV-4)
_CONSUMERS = frozenset(("dict", "list", "tuple", "set", "frozenset", "sorted", "sum", "min", "max", "any", "all"))


def _called_at_import(tree: ast.Module, helpers: set[str]) -> set[int]:
    found: set[int] = set()
    consumers = _CONSUMERS - _bound(tree)  # the builtins, not the module's own of those names
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef) and node in tree.body and node.name in helpers:
            stack.extend(node.body)  # run as the module is imported: the only calls of it are there
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in consumers:
            for arg in node.args:
                if isinstance(arg, ast.GeneratorExp):
                    stack.extend(ast.iter_child_nodes(arg))  # its element and loops run in this statement
        if isinstance(node, _DEFERRED):
            continue
        if isinstance(node, ast.Call):
            found.add(id(node.func))
        stack.extend(ast.iter_child_nodes(node))
    return found


def _import_only_helpers(tree: ast.Module, called: set[int], elsewhere: frozenset[str]) -> set[str]:
    """The module's own plain functions (undecorated, or behind ``functools``' caches) mentioned, and only as a call
    in code run at import (``called``; one never mentioned is called from outside, as the entry point is): not a
    generator (its body would run when it is iterated), not rebound, not named by an attribute, a string or another
    of the kernel's sources (nor public where one of them star-imports), so that nothing reaches them during a call."""
    mentions: dict[str, list[ast.AST]] = {}
    named: set[str] = set(elsewhere)
    exported = _exported(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            mentions.setdefault(node.id, []).append(node)
        elif isinstance(node, ast.Attribute):
            named.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in exported:
            named.add(node.value)  # ``__all__``'s strings name it only for a star import (round 59, dq FV-6)
        elif isinstance(node, ast.alias):
            named.update((node.name.rpartition(".")[2], node.asname or ""))
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            named.update(node.names)
    if "*" in elsewhere:  # another module star-imports this one: its __all__, or else its public names
        listed = {c.value for c in ast.walk(tree) if id(c) in exported}
        named |= listed or {d.name for d in tree.body if isinstance(d, ast.FunctionDef) and not d.name.startswith("_")}
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    caches = _caches(tree)
    return {d.name for d in tree.body if isinstance(d, ast.FunctionDef) and all(_a_cache(x, caches) for x in d.decorator_list)
            and defined.count(d.name) == 1 and d.name not in named and not _generator(d)
            and mentions.get(d.name) and all(id(m) in called for m in mentions[d.name])}  # fmt: skip


def _a_cache(decorator: ast.AST, caches: set[str]) -> bool:
    """``functools.cache`` or ``functools.lru_cache`` (called or not; ``caches``: the names the module imported them
    as), which call the helper and nothing else (round 59, dq FV-8; round 60, dt FV-1); a decorator of any other name
    may keep the helper for a later call."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Name):
        return target.id in caches
    return (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "functools"
            and target.attr in ("cache", "lru_cache"))  # fmt: skip


def _caches(tree: ast.Module) -> set[str]:
    """The names ``from functools import cache, lru_cache`` binds, where the module binds them nowhere else."""
    imported = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "functools"
                for a in n.names if a.name in ("cache", "lru_cache")}  # fmt: skip
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    stored |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return imported - stored


def _exported(tree: ast.Module) -> set[int]:
    """The ids of the strings of the module's ``__all__`` assignments."""
    return {id(c) for node in tree.body if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name) and target.id == "__all__"
            for c in ast.walk(node.value) if isinstance(c, ast.Constant)}  # fmt: skip


def _bound(tree: ast.Module) -> set[str]:
    """The names the module binds itself (functions, classes, assignments, imports)."""
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return bound | {a.asname or a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                    for a in n.names}  # fmt: skip


def _generator(function: ast.FunctionDef) -> bool:
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom, ast.Await)):
            return True
        if not isinstance(node, _DEFERRED):
            stack.extend(ast.iter_child_nodes(node))
    return False


def lazy_local_import(sources: Iterable[tuple[str, str]], local_modules: frozenset[str]) -> bool:
    """Whether a module of the kernel's own may first be imported inside a function (``import helper`` in ``run``):
    its statements would then run during a call, with what the call left in reach."""
    for path, text in sources:
        if not path.endswith(".py"):
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue  # the rules say so where they read it
        for scope in (n for n in ast.walk(tree) if isinstance(n, _DEFERRED)):
            for node in ast.walk(scope):
                if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] in
                                                         local_modules):  # fmt: skip
                    return True
                if isinstance(node, ast.Import) and any(a.name.split(".")[0] in local_modules for a in node.names):
                    return True
                if isinstance(node, ast.Call) and any(isinstance(a, ast.Constant) and isinstance(a.value, str)
                                                      for a in node.args[:1]) and _an_import_call(node.func):
                    return True  # importlib.import_module("helper"), __import__("helper") in a function
    return False


def _an_import_call(func: ast.AST) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__")


def names_used(sources: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """Each Python source's names, attributes, imported names and strings ("*" for a star import): what another of
    the kernel's modules may reach of it (:func:`import_time_callees`)."""
    used: dict[str, frozenset[str]] = {}
    for path, text in sources:
        if not path.endswith(".py"):
            continue
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue  # the rules say so where they read it
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        names |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        names |= {n.name.rpartition(".")[2] for n in ast.walk(tree) if isinstance(n, ast.alias)}
        used[path] = frozenset(names)
    return used

"""What a class pattern reads, and what a kernel's classes lend their instances.

``case C(dot=f)`` binds ``f`` to the subject's ``dot`` with no attribute node for the rules to read, and ``case C(f)``
does the same for each name of ``C.__match_args__`` (which ``dataclass`` writes from the fields). Over a *plain*
class of the kernel's own (defined with ``class`` in its sources, bound by nothing else, every base a plain class, a
named class outside the array libraries and ``abc``, or a builtin; no metaclass) such a read is of the object's own field or method, which the
rules read where the class writes it. Over any other class it may be a library's method: ``object(dot=f)`` or
``type(a)(dot=f)`` on an ndarray is numpy's GEMM, and a class whose base is computed (``class P(type(np.empty(0)))``)
inherits from a library unseen (red-team rounds 60 to 62: dr04, du01 to du03, dx03 to dx05). So, in a kernel of a
vendor family:

- a class pattern's keyword attribute naming a vendor method is refused unless the class is plain;
- a class pattern's positional patterns over a class bound at run time are refused (its ``__match_args__`` are out of
  sight);
- a class's base must be named: a plain class, a class the rules can name, or ``namedtuple``'s;
- ``__match_args__`` (or a dataclass's fields) naming a vendor method is refused where the class is not plain (a plain
  class's ``mv`` flag is its own: round 62, dz FV-1).
"""

from __future__ import annotations

import ast
import builtins
from typing import Callable

Hit = Callable[[str, ast.AST, str], None]
Resolve = Callable[[ast.AST], "str | None"]

#: Libraries whose classes lend their instances a family's vendor methods (an ndarray's ``dot``); torch's are judged
#: by the tensor-subclass rule and by name
LENDING_LIBRARIES = frozenset(("numpy", "cupy", "scipy", "jax"))
_TUPLE_BUILDERS = ("collections.namedtuple", "typing.NamedTuple")
_DATACLASS = ("dataclasses.dataclass",)
#: Bases whose classes a pattern matches without inheritance (``register``, ``__subclasshook__``, a runtime protocol):
#: ``case P(f)`` of an ``abc.ABC`` registered for ndarray binds its dot (round 61, du02)
_MATCHING_ANYTHING = ("abc.", "collections.abc.", "numbers.", "typing.Protocol", "typing_extensions.Protocol",
                      "typing.Sized", "typing.Iterable", "typing.Container", "typing.Collection")  # fmt: skip
_BUILTIN_CLASSES = frozenset(n for n, v in vars(builtins).items() if isinstance(v, type))


def _bindings(tree: ast.AST) -> dict[str, int]:
    """How many times each bare name is bound anywhere in the file (assignments, loops, imports, defs, classes)."""
    count: dict[str, int] = {}

    def bind(name: str) -> None:
        count[name] = count.get(name, 0) + 1

    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bind(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bind(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bind(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bind(node.rest)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bind(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                bind(name)
    return count


class Classes:
    """The classes of one source, told plain or not."""

    def __init__(self, tree: ast.Module, resolve: Resolve, local_modules: frozenset[str] = frozenset()) -> None:
        self.resolve = resolve
        bound = _bindings(tree)
        self.named = {c.name for c in ast.walk(tree) if isinstance(c, ast.ClassDef)}
        self.defs = {c.name: c for c in ast.walk(tree) if isinstance(c, ast.ClassDef) and bound.get(c.name) == 1}
        self.tuples = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                       and resolve(node.value.func) in _TUPLE_BUILDERS
                       for t in node.targets if isinstance(t, ast.Name) and bound.get(t.id) == 1}  # fmt: skip
        self.imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                         and (node.level or (node.module or "").split(".")[0] in local_modules)
                         for alias in node.names if bound.get(alias.asname or alias.name) == 1}  # fmt: skip
        self.builtin = {n for n in _BUILTIN_CLASSES if n not in bound}
        self.plain: set[str] = set(self.tuples) | self.imported  # the kernel's own modules' classes: judged there
        changed = True
        while changed:  # a class is plain once all its bases are
            changed = False
            for name, cls in self.defs.items():
                if name not in self.plain and not cls.keywords and all(self.plain_base(b) for b in cls.bases):
                    self.plain.add(name)
                    changed = True

    def named_base(self, base: ast.AST) -> bool:
        """A base the rules can name: a class of the file's, a builtin, an imported class, ``namedtuple(...)``."""
        if isinstance(base, ast.Subscript):  # Generic[T], NamedTuple's typing forms
            return self.named_base(base.value)
        if isinstance(base, ast.Name) and (base.id in self.named or base.id in self.plain or base.id in self.builtin):
            return True
        if isinstance(base, ast.Call):
            return self.resolve(base.func) in _TUPLE_BUILDERS
        return isinstance(base, (ast.Name, ast.Attribute)) and self.resolve(base) is not None

    def plain_base(self, base: ast.AST) -> bool:
        if isinstance(base, ast.Subscript):
            return self.plain_base(base.value)
        if isinstance(base, ast.Name) and (base.id in self.plain or base.id in self.builtin):
            return True
        if isinstance(base, ast.Call):
            return self.resolve(base.func) in _TUPLE_BUILDERS
        name = self.resolve(base) if isinstance(base, (ast.Name, ast.Attribute)) else None
        return bool(name) and name.split(".")[0] not in LENDING_LIBRARIES | {"torch"} and not name.startswith(
            _MATCHING_ANYTHING)  # fmt: skip

    def is_plain(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and node.id in self.plain

    def fields_only(self, node: ast.AST) -> bool:
        """A pattern's class whose instances an ndarray or tensor can never be: a plain class, a builtin but
        ``object``, or a named class outside the array libraries and ``abc`` (``types.SimpleNamespace``)."""
        if isinstance(node, ast.Name) and node.id in self.builtin:
            return node.id != "object"
        name = self.resolve(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        return self.is_plain(node) or bool(name) and name != "builtins.object" and self.plain_base(node)

    def known(self, node: ast.AST) -> bool:
        """A pattern's class whose ``__match_args__`` the rules can see or name: the file's, a builtin, or resolved."""
        return self.is_plain(node) or (isinstance(node, ast.Name) and node.id in self.named | self.builtin) or (
            isinstance(node, (ast.Name, ast.Attribute)) and self.resolve(node) is not None)  # fmt: skip


def match_args(cls: ast.ClassDef, resolve: Resolve) -> list[str]:
    """The names a class pattern's positions read: the strings of ``__match_args__``, or a dataclass's fields."""
    named = [c.value for node in cls.body if isinstance(node, (ast.Assign, ast.AnnAssign))
             for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
             if isinstance(target, ast.Name) and target.id == "__match_args__" and node.value is not None
             for c in ast.walk(node.value) if isinstance(c, ast.Constant) and isinstance(c.value, str)]  # fmt: skip
    dataclass = any(resolve(d.func if isinstance(d, ast.Call) else d) in _DATACLASS for d in cls.decorator_list)
    fields = [n.target.id for n in cls.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
    return named + (fields if dataclass else [])


def check_classes(tree: ast.Module, classes: Classes, vendor_methods: dict[str, str], hit: Hit) -> None:
    """The class patterns and class definitions of a vendor family's kernel (see the module's docstring)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.MatchClass) and not classes.fields_only(node.cls):
            for attr in node.kwd_attrs:
                if attr in vendor_methods:
                    hit("vendor-op", node, f"a class pattern over {ast.unparse(node.cls)} reads .{attr}, the method "
                        f"that does the whole {vendor_methods[attr]} op")  # fmt: skip
            if node.patterns and not classes.known(node.cls):
                hit("computed-name", node, f"a class pattern's positions over {ast.unparse(node.cls)}, a class bound "
                    "at run time, read the attributes its __match_args__ names, out of the rules' sight; match a "
                    "class defined with `class`")  # fmt: skip
        elif isinstance(node, ast.ClassDef):
            for base in node.bases:
                if not classes.named_base(base):
                    hit("computed-name", base, f"class {node.name}'s base {ast.unparse(base)} is computed: what the "
                        "class inherits (an ndarray's dot, read back through a class pattern) is out of the rules' "
                        "sight; name the base class")  # fmt: skip
            if node.name not in classes.plain:
                for name in match_args(node, classes.resolve):
                    if name in vendor_methods:
                        hit("vendor-op", node, f"class {node.name}'s __match_args__ names {name}: a class pattern "
                            f"reads the method that does the whole {vendor_methods[name]} op")  # fmt: skip

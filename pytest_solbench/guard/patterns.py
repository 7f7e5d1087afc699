"""What a class pattern reads, and what a kernel's classes lend their instances.

``case C(dot=f)`` binds ``f`` to the subject's ``dot`` with no attribute node for the rules to read, and ``case C(f)``
does the same for each name of ``C.__match_args__`` (which ``dataclass`` writes from the fields). Over a *plain* class
of the kernel's own (every ``class`` statement of its name plain, the name bound by nothing else; every base a plain
class, a builtin or a library class in ``PLAIN_LIBRARY_CLASSES``; no metaclass) such a read is of the object's own
field or method, which the rules read where the class writes it. Over any other class it may be a library's method:
``object(dot=f)`` or ``type(a)(dot=f)`` on an ndarray is numpy's GEMM; an ABC registered for ndarray matches every
array; a class whose base is computed (``class P(type(np.empty(0)))``) inherits from a library unseen (red-team rounds
60 to 63: dr04, du01 to du03, dx03 to dx05, ea01 to ea05). So, in a kernel of a vendor family:

- a class pattern's keyword attribute naming a vendor method is refused unless no array can be of its class;
- a class pattern's positions over a class bound at run time are refused (its ``__match_args__`` are out of sight);
- over a class of the file's, the class and its ancestors in the file must have named bases, and where one is not
  plain, its ``__match_args__`` (or a dataclass's fields) must name no vendor method.

Classes no pattern reads are not judged here: what they inherit is reached through attribute and call nodes, which
the other rules read by name (round 63, ec FV-1 to FV-5: honest config classes with a ``logsumexp`` flag, defined in
two branches, or made by a mixin factory).
"""

from __future__ import annotations

import ast
import builtins
from typing import Callable, Mapping

from pytest_solbench.guard.names import Resolver

Hit = Callable[[str, ast.AST, str], None]
Resolve = Callable[[ast.AST], "str | None"]

#: Calls that make a class of plain fields: a ``namedtuple``, or a dataclass with no ``bases=`` (round 63, ec FV-6)
_CLASS_BUILDERS = ("collections.namedtuple", "typing.NamedTuple", "dataclasses.make_dataclass")
_DATACLASS = ("dataclasses.dataclass",)
_BUILTIN_CLASSES = frozenset(n for n, v in vars(builtins).items() if isinstance(v, type))
#: Library classes a plain class may derive from, and a pattern may name to read fields: none has a metaclass that
#: lets an array be an instance (``abc``'s ``register``, a ``__subclasshook__``, a runtime protocol: ``os.PathLike``
#: and ``typing.Hashable`` are ABCs too, round 63, ea01, ea03)
PLAIN_LIBRARY_CLASSES = frozenset(("typing.NamedTuple", "typing.Generic", "typing.TypedDict", "enum.Enum",
                                   "typing_extensions.NamedTuple", "typing_extensions.TypedDict", "enum.IntEnum",
                                   "enum.Flag", "enum.IntFlag", "enum.StrEnum", "enum.ReprEnum",
                                   "types.SimpleNamespace"))  # fmt: skip


def bound_names(node: ast.AST) -> list[str]:
    """The bare names one node binds in its scope: an assignment's, a loop's or a ``with``'s target, a ``del``, a def,
    a class, an import, a parameter (``def f(a, float=collections.abc.Sized)``: round 65, eg09), a match capture, an
    except name; a ``global``/``nonlocal`` name twice (it is bound elsewhere too, never once here)."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return [node.id]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [alias.asname or alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return list(node.names) * 2
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, (ast.MatchAs, ast.MatchStar, ast.ExceptHandler)) and node.name:
        return [node.name]
    if isinstance(node, ast.MatchMapping) and node.rest:
        return [node.rest]
    return []


def bindings(tree: ast.AST) -> dict[str, int]:
    """How many times each bare name is bound anywhere in the file (``bound_names``)."""
    count: dict[str, int] = {}
    for node in ast.walk(tree):
        for name in bound_names(node):
            count[name] = count.get(name, 0) + 1
    return count


def _builder(call: ast.AST, resolve: Resolve) -> bool:
    return isinstance(call, ast.Call) and resolve(call.func) in _CLASS_BUILDERS and not any(
        k.arg in ("bases", "namespace", None) for k in call.keywords)  # fmt: skip


class Classes:
    """The classes of one source, told plain or not. ``plain_imports``: each of the kernel's own modules (dotted) ->
    the plain classes it defines at its top level (:func:`plain_exports`); a name imported from one is plain only if
    it is one of them (``Arr = type(np.empty(0))`` in a sibling is no class: round 63, ea05)."""

    def __init__(self, tree: ast.Module, resolver: Resolver, plain_imports: Mapping[str, frozenset[str]] = {},
                 module: str = "") -> None:  # fmt: skip
        self.resolver = resolver
        self.resolve = resolver.resolve
        self.plain_imports = plain_imports
        bound = bindings(tree)
        self.defs: dict[str, list[ast.ClassDef]] = {}  # every class statement of each name
        for cls in (c for c in ast.walk(tree) if isinstance(c, ast.ClassDef)):
            self.defs.setdefault(cls.name, []).append(cls)
        self.aliases = {t.id: node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                        and isinstance(node.value, (ast.Name, ast.Attribute))
                        for t in node.targets if isinstance(t, ast.Name) and bound.get(t.id) == 1}  # fmt: skip
        built = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) and _builder(node.value, self.resolve)
                 for t in node.targets if isinstance(t, ast.Name) and bound.get(t.id) == 1}  # fmt: skip
        package = module.rpartition(".")[0]
        imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    for alias in node.names if bound.get(alias.asname or alias.name) == 1
                    and any(alias.name in plain_imports.get(source, ()) for source in (
                        node.module or "", f"{package}.{node.module}" if package else ""))}  # fmt: skip
        self.builtin = {n for n in _BUILTIN_CLASSES if n not in bound}
        self.plain: set[str] = built | imported
        only = {name for name, classes in self.defs.items() if bound.get(name) == len(classes)}  # bound by class only
        changed = True
        while changed:  # a class is plain once all its bases are; an alias once what it names is
            changed = False
            for name in only - self.plain:
                if all(not c.keywords and all(map(self.plain_base, c.bases)) for c in self.defs[name]):
                    self.plain.add(name)
                    changed = True
            for name, value in self.aliases.items():
                if name not in self.plain and self.plain_base(value):
                    self.plain.add(name)
                    changed = True
        top = {n.name for n in tree.body if isinstance(n, ast.ClassDef)} | {
            t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        self.exported = frozenset(self.plain & (top | imported))

    def plain_base(self, base: ast.AST) -> bool:
        if isinstance(base, ast.Subscript):  # Generic[T]
            return self.plain_base(base.value)
        if isinstance(base, ast.Name) and (base.id in self.plain or base.id in self.builtin):
            return True
        if isinstance(base, ast.Call):
            return _builder(base, self.resolve)
        return self._own(base) or self.resolve(base) in PLAIN_LIBRARY_CLASSES

    def _own(self, node: ast.AST) -> bool:
        """``helpers.Plan``: a plain class of the kernel's own module ``helpers``."""
        module = self.resolver.local_module(node.value) if isinstance(node, ast.Attribute) else None
        return module is not None and node.attr in self.plain_imports.get(module, ())

    def fields_only(self, node: ast.AST) -> bool:
        """A pattern's class no ndarray or tensor can be an instance of: a plain class, a builtin but ``object``, or
        a library class in ``PLAIN_LIBRARY_CLASSES``."""
        if isinstance(node, ast.Name) and node.id in self.builtin:
            return node.id != "object"
        return self.plain_base(node)

    def statements(self, node: ast.AST) -> list[ast.ClassDef] | None:
        """The class statements of the file a pattern's class stands for (through aliases), or None."""
        for _ in range(8):
            if not isinstance(node, ast.Name):
                return None
            if node.id in self.defs:
                return self.defs[node.id]
            node = self.aliases.get(node.id)
        return None

    def named(self, node: ast.AST) -> bool:
        """A class whose ``__match_args__`` the rules can name: a library's, a builtin, or one the file defines."""
        return self.fields_only(node) or self.statements(node) is not None or (
            isinstance(node, (ast.Name, ast.Attribute)) and self.resolve(node) is not None)  # fmt: skip


def plain_exports(trees: Mapping[str, ast.Module], local_modules: frozenset[str],
                  exports: Mapping[str, Mapping[str, str]]) -> dict[str, frozenset[str]]:  # fmt: skip
    """Each of the kernel's own modules (dotted) -> the plain classes at its top level, through each other's imports
    (a pass per module at most)."""
    plain: dict[str, frozenset[str]] = {name: frozenset() for name in trees}
    for _ in range(len(trees)):
        found = {name: Classes(tree, Resolver(tree, local_modules, exports), plain, name).exported
                 for name, tree in trees.items()}  # fmt: skip
        if found == plain:
            break
        plain = found
    return plain


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
    """The class patterns of a vendor family's kernel, and the classes they read (see the module's docstring)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.MatchClass) or classes.fields_only(node.cls):
            continue
        for attr in node.kwd_attrs:
            if attr in vendor_methods:
                hit("vendor-op", node, f"a class pattern over {ast.unparse(node.cls)} reads .{attr}, the method that "
                    f"does the whole {vendor_methods[attr]} op")  # fmt: skip
        if not node.patterns:
            continue
        if not classes.named(node.cls):
            hit("computed-name", node, f"a class pattern's positions over {ast.unparse(node.cls)}, a class bound at "
                "run time, read the attributes its __match_args__ names, out of the rules' sight; match a class "
                "defined with `class`")  # fmt: skip
        seen: set[int] = set()
        todo = list(classes.statements(node.cls) or ())
        while todo:  # the class and its ancestors in the file
            cls = todo.pop()
            if id(cls) in seen:
                continue
            seen.add(id(cls))
            for base in cls.bases:
                inner = base.value if isinstance(base, ast.Subscript) else base
                if classes.statements(inner) is not None:
                    todo.extend(classes.statements(inner))
                elif not classes.named(inner) and not classes.plain_base(inner):
                    hit("computed-name", base, f"class {cls.name}'s base {ast.unparse(base)} is computed, and a class "
                        "pattern reads its instances: what it inherits (an ndarray's dot) is out of the rules' sight; "
                        "name the base class")  # fmt: skip
            if cls.name not in classes.plain:
                for name in match_args(cls, classes.resolve):
                    if name in vendor_methods:
                        hit("vendor-op", cls, f"class {cls.name}'s __match_args__ names {name}, and a class pattern "
                            f"reads it: the method that does the whole {vendor_methods[name]} op")  # fmt: skip

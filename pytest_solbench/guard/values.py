"""Modules passed around as values: what is reached through one (``def f(m): m.settrace(...)``, ``lib.rms_norm``
with ``lib`` a parameter) names nothing a rule knows, so a module used other than as ``module.attr``, an alias
(``t = torch``) or ``getattr(module, "literal")`` is a finding of its own (``computed-name``), whether it is named by
an import (``f(sys)``) or reached as an attribute (``f(torch.nn.functional)``, red-team round 18: v08 handed
``torch.nn.functional`` to a function whose ``lib.xms_norm`` it renamed, and ``lib.rms_norm`` with no renaming
passed the rules as well). Spared (red-team round 21, z23 and its static look-alikes): a choice between two modules
of Triton's language by a condition (``libdevice = cuda's if ... else hip's``), which hold nothing a rule names, and
modules listed to be looped over for what they are called (``{m.__name__: m.__version__ for m in (torch, triton)}``).
"""

from __future__ import annotations

import ast
from typing import Iterator

from pytest_solbench.guard.names import Resolver, is_module

_ATTRIBUTE_BUILTINS = ("builtins.getattr", "builtins.hasattr", "builtins.setattr", "builtins.delattr")


def modules_as_values(tree: ast.Module, resolver: Resolver) -> Iterator[tuple[ast.AST, str]]:
    """(node, shown name) of each module used as a value: a name bound by ``import`` (or standing for a module, or
    for the kernel's own module), or a whole attribute chain that resolves to an installed module."""
    modules = {dotted.split(".")[0] if alias is None else dotted
               for node in ast.walk(tree) if isinstance(node, ast.Import)
               for dotted, alias in ((a.name, a.asname) for a in node.names)}  # fmt: skip
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            resolved = resolver.names.get(node.id)
            if not (resolved in modules or node.id in resolver.local or (resolved and is_module(resolved))):
                continue
            shown = node.id
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and not isinstance(
                parents.get(id(node)), ast.Attribute):  # fmt: skip
            resolved = resolver.resolve(node)
            if not (resolved and is_module(resolved)):
                continue
            shown = ast.unparse(node)
        else:
            continue
        parent = parents.get(id(node))
        if _device_library_choice(node, parent, parents, resolver) or _names_only(node, parent, parents):
            continue
        if isinstance(parent, ast.Attribute) or (isinstance(parent, ast.Assign) and parent.value is node
                                                 and all(isinstance(t, ast.Name) for t in parent.targets)):
            continue
        named = isinstance(parent, ast.Call) and parent.args[:1] == [node] and len(parent.args) >= 2 and isinstance(
            parent.args[1], ast.Constant)  # getattr(module, "name"): resolved; setattr(module, ...): patching
        if named and resolver.resolve(parent.func) in _ATTRIBUTE_BUILTINS:
            continue
        yield node, shown


#: Modules that hold only device functions of Triton's language (``libdevice.rsqrt`` runs inside a jit kernel):
#: no rule names anything in them, so choosing one by a condition hides nothing from the rules.
_DEVICE_LIBRARIES = ("triton.language.extra.cuda.libdevice", "triton.language.extra.hip.libdevice",
                     "triton.language.extra.libdevice", "triton.language.math")  # the leaves: triton.language.core
# holds builtins and inspect (red-team round 22, aa05)


def _device_library_choice(node: ast.AST, parent: ast.AST | None, parents: dict, resolver: Resolver) -> bool:
    """``libdevice = tl.extra.cuda.libdevice if torch.version.hip is None else tl.extra.hip.libdevice``: a
    conditional expression assigned to plain names whose two branches are both modules of Triton's language
    (red-team round 21, z23: the portable kernel's idiom)."""
    if not (isinstance(parent, ast.IfExp) and node in (parent.body, parent.orelse)):
        return False
    assign = parents.get(id(parent))
    plain = isinstance(assign, ast.Assign) and all(isinstance(t, ast.Name) for t in assign.targets)
    annotated = isinstance(assign, ast.AnnAssign) and isinstance(assign.target, ast.Name)
    if not ((plain or annotated) and assign.value is parent or isinstance(assign, ast.Return)):
        return False  # assigned to a name, or returned from a helper (red-team round 22, aa06)
    branches = [resolver.resolve(b) for b in (parent.body, parent.orelse)]
    return all(b in _DEVICE_LIBRARIES and is_module(b) for b in branches)


#: What a loop over modules may read of each: what it is called, its version, where it lives.
_WHAT_IT_IS = ("__name__", "__version__", "__file__")


def _names_only(node: ast.AST, parent: ast.AST | None, parents: dict) -> bool:
    """A module in a tuple or list literal that a ``for`` or a comprehension loops over, whose loop variable is
    used only as ``m.__name__``, ``m.__version__`` or ``m.__file__`` (``{m.__name__: m.__version__ for m in
    (torch, triton)}``): nothing is reached through it."""
    if not isinstance(parent, (ast.Tuple, ast.List)):
        return False
    loop = parents.get(id(parent))
    if not (isinstance(loop, (ast.comprehension, ast.For, ast.AsyncFor)) and loop.iter is parent
            and isinstance(loop.target, ast.Name)):  # fmt: skip
        return False
    scope = parents.get(id(loop)) if isinstance(loop, ast.comprehension) else _root(loop, parents)  # a for's
    # variable outlives the loop: every use of its name in the file counts
    if not isinstance(loop, ast.comprehension) and not _in_function(loop, parents):
        return False  # a module-level for's variable is a global another file can import (round 22, aa07)
    uses = [n for n in ast.walk(scope) if isinstance(n, ast.Name) and n.id == loop.target.id and n is not loop.target]
    return bool(uses) and all(isinstance(parents.get(id(n)), ast.Attribute) and parents[id(n)].attr in _WHAT_IT_IS
                              and isinstance(n.ctx, ast.Load) for n in uses)  # fmt: skip


def _in_function(node: ast.AST, parents: dict) -> bool:
    while id(node) in parents:
        node = parents[id(node)]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return True
    return False


def _root(node: ast.AST, parents: dict) -> ast.AST:
    while id(node) in parents:
        node = parents[id(node)]
    return node

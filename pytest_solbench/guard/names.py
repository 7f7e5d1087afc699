"""How the static rules read names: each local name resolved to the dotted name it stands for, through imports,
aliases, class attributes and the kernel's own modules; whether a dotted name is a module; the source encoding a
file declares; and C++ as the rules read it (comments and strings blanked, ``std :: x`` and ``using namespace std``
normalized). Reads ``ast`` trees and text and looks modules up on disk with the import system's finder; only
:func:`lookup` imports (the allow-listed standard-library modules, torch and numpy) to learn what a name is.
"""

from __future__ import annotations

import ast
import functools
import importlib.machinery
import os
import re
import sys
from typing import Mapping, Sequence

from pytest_solbench.guard.tables import IMPORTABLE

class Resolver:
    """Local name -> dotted name of what it stands for, from imports and simple assignments anywhere in the file.

    Names bound to the kernel's own modules (relative imports, or a module among its sources) stay unresolved, but
    what is reached through them is resolved through that module's own names (``helpers.F.rms_norm``, with
    ``import torch.nn.functional as F`` in helpers.py, is ``torch.nn.functional.rms_norm``): ``exports``.
    """

    def __init__(self, tree: ast.Module, local_modules: frozenset[str] = frozenset(),
                 exports: Mapping[str, Mapping[str, str]] | None = None) -> None:  # fmt: skip
        self.names: dict[str, str] = {}
        self.local: dict[str, str] = {}  # local name -> the kernel's own module it stands for
        self.exports = exports or {}
        self.imports: list[tuple[ast.AST, str]] = []  # (node, imported dotted name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.imports.append((node, alias.name))
                    if alias.name.split(".")[0] in local_modules:
                        local = alias.name if alias.asname else alias.name.split(".")[0]
                        self.local[alias.asname or local] = local
                        continue
                    if alias.asname:
                        self.names[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        self.names[top] = top
            elif isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                for alias in node.names:
                    full = f"{module}.{alias.name}" if module and not module.endswith(".") else module + alias.name
                    self.imports.append((node, full))
                    if not node.level and full.split(".")[0] not in local_modules:
                        self.names[alias.asname or alias.name] = full
                    elif node.module or not node.level:  # from helpers import F: what F is in helpers
                        source = node.module or ""
                        if full in self.exports or f"{source}.{alias.name}" in self.exports:
                            self.local[alias.asname or alias.name] = f"{source}.{alias.name}"
                        elif alias.name in self.exports.get(source, {}):
                            self.names[alias.asname or alias.name] = self.exports[source][alias.name]
        classes = {id(item): c.name for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for item in c.body}
        for _ in range(3):  # aliases of aliases: E = torch.cuda.Event; F = E; a = b = E; class K: m = E
            for node in ast.walk(tree):
                targets = node.targets if isinstance(node, ast.Assign) else (
                    [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else
                    [node.target] if isinstance(node, ast.NamedExpr) else [])  # fmt: skip
                names = [t.id for t in targets if isinstance(t, ast.Name) and t.id != "__all__"]
                resolved = self.resolve(node.value) if names else None
                for name in names if resolved else ():
                    self.names[f"{classes[id(node)]}.{name}" if id(node) in classes else name] = resolved

    def local_module(self, node: ast.AST) -> str | None:
        """The kernel's own module ``node`` stands for (``helpers``, ``pkg.sub``), or None."""
        if isinstance(node, ast.Name):
            return self.local.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.local_module(node.value)
            return f"{base}.{node.attr}" if base and f"{base}.{node.attr}" in self.exports else None
        return None

    def resolve(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            return f"builtins.{node.id}" if node.id in BUILTINS else None
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and f"{node.value.id}.{node.attr}" in self.names:
                return self.names[f"{node.value.id}.{node.attr}"]  # a class attribute: K.m
            local = self.local_module(node.value)
            if local is not None:
                return self.exports.get(local, {}).get(node.attr)
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Tuple, ast.List)):
            index = node.slice.value if isinstance(node.slice, ast.Constant) else None  # [torch.cuda][0]
            if type(index) is int and -len(node.value.elts) <= index < len(node.value.elts):
                return self.resolve(node.value.elts[index])
        if isinstance(node, ast.Call) and node.args:
            func = self.resolve(node.func)
            args = node.args
            if func == "builtins.getattr" and len(args) >= 2 and isinstance(args[1], ast.Constant):
                base = self.resolve(args[0])
                return f"{base}.{args[1].value}" if base else None
            if func in ("builtins.__import__", "importlib.import_module") and isinstance(args[0], ast.Constant):
                return str(args[0].value)
        return None


BUILTINS = {"open", "exec", "eval", "compile", "__import__", "getattr", "setattr", "delattr", "hasattr", "id", "hash",
             "globals", "vars", "locals", "memoryview", "breakpoint", "input", "type", "map"}  # fmt: skip


_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")  # PEP 263, as the tokenizer reads it


def source_encoding(text: str) -> tuple[int, str] | None:
    """(line, encoding) of a coding cookie in the first two lines that is not UTF-8: the importer would decode the
    file with it (``# coding: utf-7`` turns a "comment" into code) while the rules read UTF-8, so it is refused."""
    for number, line in enumerate(text.splitlines()[:2], 1):
        match = _COOKIE.match(line)
        if match:
            name = match.group(1).lower().replace("_", "-")
            return None if name in ("utf-8", "utf8") or name.startswith("utf-8-") else (number, match.group(1))
        if line.strip() and not line.lstrip().startswith("#"):
            return None
    return None


def module_trees(sources: Sequence[tuple[str, str]]) -> dict[str, ast.Module]:
    """Each of the kernel's Python modules that parses (dotted: ``helpers``, ``pkg.sub``) -> its tree."""
    trees = {}
    for path, text in sources:
        if path.endswith(".py"):
            try:
                trees[path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")] = ast.parse(text)
            except SyntaxError:
                continue
    return trees


def local_exports(sources: Sequence[tuple[str, str]], local_modules: frozenset[str]) -> dict[str, dict[str, str]]:
    """Each of the kernel's own Python modules (dotted, ``helpers``, ``pkg.sub``) -> its names that resolve."""
    trees = module_trees(sources)
    exports: dict[str, dict[str, str]] = {name: {} for name in trees}
    for _ in range(2):  # a name re-exported through two local modules
        exports = {name: Resolver(tree, local_modules, exports).names for name, tree in trees.items()}
    return exports


@functools.lru_cache(maxsize=4096)
def is_module(dotted: str) -> bool:
    """Whether ``dotted`` names an installed module or package (``torch.nn.functional``), found on disk by the
    import system's finder without importing anything."""
    parts = dotted.split(".")
    try:
        spec = importlib.machinery.PathFinder.find_spec(parts[0])
    except (ImportError, ValueError, OSError):
        return False
    if spec is None:
        return parts[0] in sys.builtin_module_names and len(parts) == 1
    if len(parts) == 1:
        return True
    roots = spec.submodule_search_locations or []
    for root in roots:
        path = os.path.join(root, *parts[1:])
        if os.path.isdir(path) or any(os.path.isfile(path + suffix) for suffix in importlib.machinery.all_suffixes()):
            return True
    return False


_CPP_TOKENS = re.compile(  # comments, raw strings, strings, character literals
    r'//[^\n]*|/\*.*?\*/|R"(?P<delim>[^(]*)\(.*?\)(?P=delim)"|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S
)


def strip_cpp(text: str) -> str:
    """The C++ text with comments and string/char literals blanked, newlines kept (so line numbers hold)."""
    return _CPP_TOKENS.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


_STD_NAMES = re.compile(r"(?<![\w:])(thread|jthread|async|ofstream|ifstream|fstream|map|unordered_map)\b")


def normalize_cpp(code: str) -> str:
    """``std :: thread`` as ``std::thread``, and with ``using namespace std`` a bare ``thread`` as ``std::thread``;
    lines kept. Macros are not expanded: a name built by token pasting (``CAT(dl, open)``) stays out of sight."""
    code = re.sub(r"[ \t]*::[ \t]*", "::", code)
    if re.search(r"\busing\s+namespace\s+std\b", code):
        code = _STD_NAMES.sub(r"std::\1", code)
    return code


#: Libraries whose modules the rules may import to learn what a dotted name IS (``collections._sys`` is ``sys``,
#: ``torch.nn.modules.linear.F`` is ``torch.nn.functional``): those of the kernels' allow-list from the standard
#: library, torch and numpy. Importing them runs no kernel code; other modules are read only if already imported.
_IMPORTABLE_FOR_LOOKUP = (frozenset(sys.stdlib_module_names) | {"torch", "numpy"}) & IMPORTABLE


def _module(dotted: str):
    found = sys.modules.get(dotted)
    if found is not None or dotted.split(".")[0] not in _IMPORTABLE_FOR_LOOKUP or "." in dotted:
        return found
    try:
        return importlib.import_module(dotted)
    except Exception:  # noqa: BLE001 - a module that fails to import names nothing
        return None


#: Modules whose ``__getattr__`` hands every name on to an object they hold: that object's attribute name.
_FORWARDING = {"torch._VF": "vf"}


def _static_attribute(holder: object, name: str) -> object:
    """``holder.name`` as the class dictionaries along the MRO hold it (a static method unwrapped), running no
    ``__getattr__`` or descriptor; None where it is not found so."""
    if holder is None:
        return None
    owner = holder if isinstance(holder, type) else type(holder)
    own = getattr(holder, "__dict__", None) if not isinstance(holder, type) else None
    for mapping in ([own] if isinstance(own, dict) else []) + [vars(k) for k in owner.__mro__]:
        if name in mapping:
            value = mapping[name]
            return value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
    return None


@functools.lru_cache(maxsize=8192)
def lookup(dotted: str) -> tuple[str, object]:
    """(canonical name, object) of a dotted name read through the modules it passes: each leading part that is a
    module (by ``vars(module)``, no ``getattr`` hook runs) is replaced by that module's own name, so
    ``random._os.system`` is ``os.system`` and ``torch.nn.modules.linear.F.linear`` is
    ``torch.nn.functional.linear``. The object is what the whole name is (None where a part is not found): the same
    function under two names (``torch.functional.einsum``, ``torch.einsum``) is the same object."""
    parts = dotted.split(".")
    current = _module(parts[0])
    if current is None:
        return dotted, None
    canonical = current.__name__
    for index, part in enumerate(parts[1:], 1):
        if isinstance(current, type(sys)):
            value = vars(current).get(part)
            if value is None:
                value = sys.modules.get(f"{current.__name__}.{part}")
            if value is None and canonical in _FORWARDING:  # torch._VF.rms_norm is torch.rms_norm
                value = _static_attribute(vars(current).get(_FORWARDING[canonical]), part)
        else:  # a class or an object: torch._C._VariableFunctions.rms_norm is torch.rms_norm (round 14, p02)
            value = _static_attribute(current, part)
        if value is None:
            return ".".join([canonical, *parts[index:]]), None
        if isinstance(value, type(sys)):
            canonical = getattr(value, "__name__", None) or f"{canonical}.{part}"
        else:
            canonical = f"{canonical}.{part}"
        current = value
    return canonical, current

"""The module rules judged by the object a name reaches, not only by how it is spelled (red-team round 18, v07).

:data:`tables.MODULE_RULES` names functions and classes by one dotted name each, but Python hands the same object out
under many: ``torch.jit._script.CompilationUnit`` and ``torch.CompilationUnit`` are ``torch.jit.CompilationUnit``,
``types.LambdaType`` is ``types.FunctionType``, ``torch.utils.weak.ref`` is ``weakref.ref``. Each entry that names a
function or class is resolved once (:func:`guard.names.lookup`: only modules already imported, or the allow-listed
standard library, torch and numpy, are read, and no ``__getattr__`` hook runs; nothing touches a GPU), and a name
whose object, or the object of one of its leading parts, is one of them fires that entry's rule. Modules are left
to the names' canonical form (a module's own ``__name__``), which the rules already read.
"""

from __future__ import annotations

from types import ModuleType

from pytest_solbench.guard.names import lookup
from pytest_solbench.guard.tables import MODULE_RULES

_BY_ID: dict[int, tuple[object, list[str], str, str]] = {}  # id(object) -> (object, entries, rule, what)


def _rule_objects() -> dict[int, tuple[object, list[str], str, str]]:
    """id(object) -> (object, the entries naming it, rule, why) for every MODULE_RULES entry that names a function
    or class; built on first use (the object is kept, so its id stays its own)."""
    if not _BY_ID:
        for prefix, (rule, what) in MODULE_RULES.items():
            value = _resolve(prefix)
            if value is None or isinstance(value, ModuleType) or not callable(value):
                continue
            _BY_ID.setdefault(id(value), (value, [], rule, what))[1].append(prefix)
        _BY_ID.setdefault(0, (None, [], "", ""))  # built, even if nothing resolved
    return _BY_ID


def _resolve(dotted: str) -> object:
    try:
        return lookup(dotted)[1]
    except Exception:  # noqa: BLE001 - a name that cannot be read names nothing
        return None


def same_object(name: str) -> list[tuple[str, str]]:
    """(rule, message) for a name that reaches, whole or by a leading part, the very function or class a module
    rule names under another spelling (``torch.jit._script.CompilationUnit`` is ``torch.jit.CompilationUnit``)."""
    parts = name.split(".")
    table = _rule_objects()
    for end in range(len(parts), 1, -1):
        head = ".".join(parts[:end])
        value = _resolve(head)
        if value is None or isinstance(value, ModuleType):
            continue
        entry = table.get(id(value))
        if entry is not None and entry[0] is value:
            _, entries, rule, what = entry
            if any(head == prefix or head.startswith(prefix + ".") for prefix in entries):
                return []  # spelled as the table spells it: that finding is made already
            return [(rule, f"uses {name}, which is {entries[0]}: {what}")]
        entry = table.get(id(type(value)))  # torch.jit._recursive._python_cu: a CompilationUnit torch made
        if entry is not None and entry[0] is type(value) and entry[1][0] not in _EVERYWHERE:
            return [(entry[2], f"uses {name}, an object of {entry[1][0]}: {entry[3]}")]
    return []


#: Classes whose objects are everywhere (every function is a ``types.FunctionType``): only the class itself counts.
_EVERYWHERE = ("types.FunctionType", "types.CodeType")

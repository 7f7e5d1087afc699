"""Strings that Python or a library evaluates as types, read as the kernel's code: string annotations, which
``functools.singledispatch``, ``torch.library.custom_op`` and ``typing.get_type_hints`` evaluate (red-team rounds 15
and 16), and type strings handed to ``typing`` as data (``NamedTuple``, ``TypedDict``, generics; round 18). One that is
more than a type is a finding of its own; the rules read the code in it as the kernel's.
"""

from __future__ import annotations

import ast
from typing import Any, Callable, Iterator

def check_annotations(tree: ast.Module, hit: Callable[[str, ast.AST, str], None],
                      resolve: Callable[[ast.AST], Any] | None = None) -> list[ast.AST]:  # fmt: skip
    """The code in string annotations, parsed, for the rules to read as the kernel's own (its line the
    annotation's): ``functools.singledispatch`` and ``torch.library.custom_op`` evaluate them (``typing``), and one
    that fetched the vendor op PASSED (red-team rounds 15 and 16, r08, r10, s01). One that is more than a type, or
    that does not parse, is a finding of its own. Annotations written as code are read as code already. With
    ``resolve``, type strings handed to ``typing`` as data count as annotations too (:func:`typing_data`, round 18)."""
    code: list[ast.AST] = []
    data = {id(n): n for n in typing_data(tree, resolve)} if resolve else {}
    for node in [*ast.walk(tree), *data.values()]:
        if data.get(id(node)) is not None:
            notes, data[id(node)] = [node], None  # once: a subscript is also met by the walk
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            notes = [a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
                     if a is not None] + [node.returns]  # fmt: skip
        elif isinstance(node, ast.AnnAssign):
            notes = [node.annotation]
        else:
            continue
        for text in (s for note in notes if note is not None for s in _evaluated_strings(note)):
            parsed = _parsed(text.value)
            if parsed is None or not _plain_type(parsed):
                hit("runtime-load", text, "a string annotation that is more than a type: libraries evaluate it")
            if parsed is not None:
                code.append(ast.fix_missing_locations(ast.increment_lineno(parsed, text.lineno - 1)))
                code += [c for s in _evaluated_strings(parsed) for c in check_annotations(_as_annotation(s), hit)]
    return code


def is_plain_type(text: object) -> bool:
    """Whether a string parses as a type as annotations spell one (:func:`_plain_type`): what ``typing`` may
    compile for a kernel without the audit counting it as code (round 18, v09)."""
    parsed = _parsed(text) if isinstance(text, str) else None
    return parsed is not None and _plain_type(parsed)


def _as_annotation(text: ast.Constant) -> ast.Module:
    """A nested string annotation (``List["X"]``) as a module of one annotated name, on its line."""
    return ast.Module([ast.AnnAssign(ast.Name("_", ast.Store()), text, None, 1, lineno=text.lineno, col_offset=0)], [])


def _parsed(text: str) -> ast.AST | None:
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def _head(node: ast.Subscript) -> str:
    return node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")


def _evaluated_strings(node: ast.AST) -> Iterator[ast.Constant]:
    """The strings in an annotation that ``typing`` evaluates: not a ``Literal``'s values or ``Annotated``'s notes."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            yield node
        return
    if isinstance(node, ast.Subscript) and _head(node) in ("Literal", "Annotated"):
        if _head(node) == "Annotated":
            yield from _evaluated_strings(node.slice.elts[0] if isinstance(node.slice, ast.Tuple) and node.slice.elts
                                          else node.slice)  # fmt: skip
        return
    for child in ast.iter_child_nodes(node):
        yield from _evaluated_strings(child)


def _plain_type(node: ast.AST) -> bool:
    """A type as annotations spell one: names and attributes, subscripts, tuples and lists of them, ``X | Y``,
    ``None``, ``...``, a ``Literal``'s values, an ``Annotated``'s notes; nested strings are judged on their own."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return not isinstance(node, ast.Constant) or node.value is None or node.value is Ellipsis or isinstance(
            node.value, (int, bool, str))  # fmt: skip
    if isinstance(node, ast.Attribute):
        return _plain_type(node.value)
    if isinstance(node, ast.Subscript):
        if _head(node) == "Literal":
            return True
        if _head(node) == "Annotated" and isinstance(node.slice, ast.Tuple) and node.slice.elts:
            return _plain_type(node.value) and _plain_type(node.slice.elts[0])
        return _plain_type(node.value) and _plain_type(node.slice)
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_plain_type(e) for e in node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _plain_type(node.left) and _plain_type(node.right)
    return False


# ---------------------------------------------------------------- strings handed to typing as data (round 18, v09)

#: typing's factories whose first argument is the new thing's name, not a type.
_NAMED_FACTORIES = ("NamedTuple", "TypedDict", "NewType", "TypeVar", "ParamSpec", "TypeVarTuple", "TypeAliasType",
                    "make_dataclass")  # fmt: skip
#: Keywords of typing's factories that are no types (a NamedTuple's or TypedDict's options, a TypeVar's variance).
_NOT_TYPES = ("total", "module", "defaults", "rename", "covariant", "contravariant", "infer_variance", "closed")
#: Bare builtins subscripted as generics: ``list["T"]`` holds a string that get_type_hints turns into a ForwardRef.
_BUILTIN_GENERICS = ("list", "dict", "tuple", "set", "frozenset", "type")


def _typing_name(name: str | None) -> bool:
    return bool(name) and (name.split(".")[0] in ("typing", "typing_extensions") or name == "collections.abc" or name.startswith("collections.abc.")
                           or name == "dataclasses.make_dataclass")  # fmt: skip


def typing_data(tree: ast.Module, resolve: Callable[[ast.AST], Any]) -> Iterator[ast.AST]:
    """Type strings a kernel hands to ``typing`` as data, outside any annotation: a ``NamedTuple``/``TypedDict``'s
    field types, ``NewType``/``TypeVar``'s, ``cast``'s, a typing generic's arguments (``Optional["X"]``,
    ``list["X"]``). ``typing`` turns them into ``ForwardRef`` s that ``get_type_hints`` evaluates once they reach an
    ``__annotations__`` (``functools.update_wrapper`` copies a NamedTuple's onto a function that
    ``singledispatch`` reads), with only the standard library between: read as annotations. Names given to the
    factories (a NamedTuple's, its fields', a TypedDict's keys) are names, not types."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and (_typing_name(resolve(node.value)) or (
                isinstance(node.value, ast.Name) and node.value.id in _BUILTIN_GENERICS)):  # fmt: skip
            yield node
        if not (isinstance(node, ast.Call) and _typing_name(name := resolve(node.func))):
            continue
        last = name.split(".")[-1]
        args = list(node.args)
        keywords = [k.value for k in node.keywords if k.arg not in _NOT_TYPES]
        if last == "cast":
            args = args[:1]
        elif last == "assert_type":
            args = args[1:2]
        elif last == "make_dataclass":
            args, keywords = args[1:2], [k.value for k in node.keywords if k.arg == "fields"]
        elif last in _NAMED_FACTORIES:
            args = args[1:]
        for arg in [*args, *keywords]:
            yield from _type_parts(arg)


def _type_parts(node: ast.AST) -> Iterator[ast.AST]:
    """The types in a factory's argument: a dict's values, the second item of (name, type) pairs in a list."""
    if isinstance(node, ast.Dict):
        for value in node.values:
            yield from _type_parts(value)
    elif isinstance(node, (ast.List, ast.Tuple)) and node.elts and all(
            isinstance(e, (ast.Tuple, ast.List)) and e.elts for e in node.elts):  # [("x", "int"), ("y", "T")]
        for pair in node.elts:
            named = isinstance(pair.elts[0], ast.Constant) and isinstance(pair.elts[0].value, str)
            for item in pair.elts[1:2] if named else pair.elts:
                yield from _type_parts(item)
    elif isinstance(node, (ast.List, ast.Tuple)) and node.elts and isinstance(node.elts[0], ast.Constant) and (
            isinstance(node.elts[0].value, str)) and len(node.elts) in (2, 3):  # make_dataclass's ("x", "int", f)
        yield from _type_parts(node.elts[1])
    else:
        yield node

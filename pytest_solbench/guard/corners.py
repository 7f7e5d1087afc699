"""Library corners the name rules judge by what a name is, not by a table of its spellings (red-team round 2): a
vendor op under another name or as a private twin, os functions outside a small allow-list, and private names of
the standard library (each from a dotted name and its canonical form, :func:`guard.names.lookup`); a precision
flag turned off, which is no patching; ``open()`` called only to read, which the runtime audit judges by its path;
annotations written as strings that are more than a type, which libraries evaluate, and type strings handed to
``typing`` as data, read as annotations; a script's ``if __name__ == "__main__":`` self-test, which an import never
runs; ``logging.basicConfig`` that only sets a level and a format (round 18).
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from pytest_solbench.guard.names import lookup
from pytest_solbench.guard.tables import COMPILER_ALLOWED, COMPILER_INTERNALS, MODULE_RULES, OS_ALLOWED


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def vendor_family(op: str, vendor: Mapping[str, str], methods: Mapping[str, str]) -> str | None:
    """The vendor family an op name belongs to, its private and fused variants too (``_fused_rms_norm``)."""
    for name in dict.fromkeys((op, op.lstrip("_"), op.lstrip("_").removeprefix("fused_"))):
        family = vendor.get(f"torch.{name}") or vendor.get(f"torch.nn.functional.{name}") or vendor.get(
            f"torch.ops.aten.{name}") or methods.get(name)  # fmt: skip
        if family:
            return family
    return None


def is_vendor_object(value: object, prefix: str) -> bool:
    """Whether ``value`` is the very function or class a vendor op's name stands for (``torch._C._nn.linear`` is
    ``torch.nn.functional.linear``); nothing that is not callable compares."""
    vendor = lookup(prefix)[1]
    return value is not None and callable(vendor) and value is vendor


def vendor_aliases(name: str, aliases: list[str], value: object, vendor: Mapping[str, str],
                   methods: Mapping[str, str]) -> list[str]:  # fmt: skip
    """Messages for a vendor op the table does not spell: the same object under another name (``torch._C._nn.
    linear`` is ``F.linear``), any overload of a listed aten op, a private or fused twin (``torch._fused_rms_norm``)."""
    if any(_matches(n, prefix) for n in (name, *aliases) for prefix in vendor):
        return []  # named as the table spells it: that finding is made already
    found = [f"{name} is {prefix}, which does the whole {family} op" for prefix, family in vendor.items()
             if is_vendor_object(value, prefix)]  # fmt: skip
    parts = name.split(".")
    if _matches(name, "torch.ops.aten") and len(parts) > 3:
        family = vendor_family(parts[3], vendor, methods)
        found += [f"uses {name}, the aten op that does the whole {family} op"] if family else []
    elif parts[0] == "torch" and parts[-1].startswith("_") and not parts[-1].startswith("__"):
        family = vendor_family(parts[-1], vendor, methods)
        found += [f"uses {name}, a private variant of the op that does the whole {family} op"] if family else []
    return found


def corner_findings(name: str, canonical: str, local_modules: frozenset[str]) -> list[tuple[str, str]]:
    """(rule, message) for an os name outside :data:`OS_ALLOWED` that no named rule covers, and for a private name
    of a standard-library module (``dataclasses._create_fn``)."""
    found = []
    if _matches(canonical, "os") and canonical not in ("os", "os.environ") and not any(
            _matches(canonical, allowed) for allowed in OS_ALLOWED) and not any(
            _matches(canonical, prefix) for prefix in MODULE_RULES):  # fmt: skip
        found.append(("file-network-os", f"uses {name}, an os function outside the harmless ones "
                      f"({', '.join(OS_ALLOWED[:4])}...)"))  # fmt: skip
    inside = [n for n in (name, canonical) if any(_matches(n, c) and n != c for c in COMPILER_INTERNALS)]
    if inside and not any(_matches(n, allowed) for n in inside for allowed in COMPILER_ALLOWED) and not any(
            _matches(canonical, prefix) for prefix in MODULE_RULES):  # fmt: skip
        found.append(("runtime-load", f"uses {name}, a compiler's internals: a kernel drives a compiler through "
                      "torch.compile, triton.jit or a custom op, and may set its config"))  # fmt: skip
    top, *rest = canonical.split(".")
    private = [part for part in rest if part.startswith("_") and not part.startswith("__")]
    if private and top in sys.stdlib_module_names and top not in local_modules:
        found.append(("unlisted-import", f"uses {name}, a private name ({private[0]}) of the standard library: code "
                      "nobody reviewed as a kernel's"))  # fmt: skip
    return found


_PRECISION_FLAGS = ("allow_tf32", "allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction")


def turns_off(node: ast.AST) -> bool:
    """``x.allow_tf32 = False``: a precision flag set to False, the safe side (its owner's other attributes are
    still patching)."""
    return (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value is False
            and all(isinstance(t, ast.Attribute) and t.attr in _PRECISION_FLAGS for t in node.targets))  # fmt: skip


def reads_a_file(call: ast.Call, resolve: Callable[[ast.AST], Any]) -> bool:
    """``open(path)`` or ``open(path, "rb")``, called where it is named, with a mode written out that only reads
    and no opener: a read, like ``Path.read_text()``, which the runtime audit judges by its path (the kernel's own
    folder is fine, round 12, n06). Any other use of ``open`` (a computed mode, an alias, an opener) is a finding."""
    if resolve(call.func) != "builtins.open" or len(call.args) > 2:
        return False
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
            k.arg not in ("mode", "encoding", "errors", "newline", "buffering") for k in call.keywords):
        return False
    mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    if mode is None:
        return True
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) <= set("rbt")


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
    return bool(name) and (name.split(".")[0] in ("typing", "typing_extensions") or _matches(name, "collections.abc")
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


# ---------------------------------------------------------------- a script's self-test (round 18, h07)

#: Names through which a module's ``__name__`` can change without the token ``__name__`` being stored in the source.
_NAME_CHANGERS = frozenset(("setattr", "globals", "vars", "locals", "exec", "eval", "__dict__", "modules",
                            "__import__", "import_module", "__setattr__", "f_globals", "f_locals", "__builtins__",
                            "builtins", "runpy", "getattr", "_getframe", "currentframe", "setitem", "attrgetter",
                            "methodcaller", "__getattribute__"))  # fmt: skip
#: ... and spelled in a string (``getattr(frame, "f_globals")``), besides ``__name__`` and ``__main__`` themselves.
_NAME_WORDS = ("__name__", "__main__", "f_globals", "globals", "__dict__", "modules", "setattr")


def name_may_change(sources: Iterable[tuple[str, str]]) -> bool:
    """Whether any Python source could make a module's ``__name__`` read ``"__main__"``: the token ``__name__``
    anywhere but read (stored, bound by ``import``/``def``/``global``/``as``, in a string other than a docstring),
    or a name through which it is written without the token (``setattr``, ``globals()``, ``sys.modules``...).
    A source that does not parse or tokenize counts as one that may."""
    for path, text in sources:
        if not path.endswith(".py"):
            continue
        try:
            tree = ast.parse(text)
            tokens = [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.NAME]
        except (SyntaxError, ValueError, tokenize.TokenError, IndentationError):
            return True
        if _NAME_CHANGERS & set(tokens) or any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)
                                                for n in ast.walk(tree)):  # fmt: skip (a module's __all__ may name it)
            return True
        read = sum(1 for n in ast.walk(tree) if isinstance(n.__dict__.get("ctx"), ast.Load) and "__name__" in (
            getattr(n, "id", None), getattr(n, "attr", None)))  # fmt: skip
        if tokens.count("__name__") != read:
            return True
        docs = {id(n.body[0].value) for n in ast.walk(tree) if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef,
                ast.AsyncFunctionDef)) and n.body and isinstance(n.body[0], ast.Expr)}  # fmt: skip
        docs |= {id(side) for n in tree.body if is_main_block(n) for side in (n.test.left, n.test.comparators[0])}
        if any(isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs and any(
                word in n.value for word in _NAME_WORDS) for n in ast.walk(tree)):  # fmt: skip
            return True
    return False


def is_main_block(node: ast.AST) -> bool:
    """``if __name__ == "__main__":`` (either side), the test exactly so."""
    test = node.test if isinstance(node, ast.If) else None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
        isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)  # fmt: skip


def skip_main_blocks(sources: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The sources with the body of each module-level ``if __name__ == "__main__":`` blanked to ``pass`` (lines
    kept, its ``else`` kept): a self-test that never runs when the worker imports the kernel (red-team round 18,
    h07). Unless any source may change a module's ``__name__`` (:func:`name_may_change`): then all is read."""
    if name_may_change(sources):
        return list(sources)
    out = []
    for path, text in sources:
        tree = ast.parse(text) if path.endswith(".py") else None  # parses: name_may_change parsed it
        lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z", text)  # the parser's lines (not \f, \u2028...)
        for node in tree.body if tree else ():
            first, last = (node.body[0].lineno, node.body[-1].end_lineno) if is_main_block(node) else (0, 0)
            if first > node.lineno and last:  # the body on lines of its own (not `if ...: main()`)
                indent = lines[first - 1][:len(lines[first - 1]) - len(lines[first - 1].lstrip())]
                lines[first - 1:last] = [indent + "pass\n"] + ["\n"] * (last - first)
                node.body = [ast.Pass()]
        blanked = "".join(lines)
        if tree and blanked != text and not _same_code(blanked, tree):
            return list(sources)  # the blanking took more or less than the block: read everything
        out.append((path, blanked))
    return out


def _same_code(text: str, tree: ast.Module) -> bool:
    """Whether ``text`` parses to ``tree`` (line numbers aside)."""
    try:
        return ast.dump(ast.parse(text)) == ast.dump(tree)
    except (SyntaxError, ValueError):
        return False


# ---------------------------------------------------------------- logging set up to stderr (round 18, h05)

#: ``logging.basicConfig`` keywords that only say how records look: no file, stream or handler.
_QUIET_LOGGING = ("level", "format", "datefmt", "style")


def quiet_logging_config(call: ast.Call, resolve: Callable[[ast.AST], Any]) -> bool:
    """``logging.basicConfig(level=..., format=...)``: the root logger to stderr. With ``filename=``, ``stream=``,
    ``handlers=``, ``force=``, any positional or ``**kwargs`` it stays ``file-network-os``."""
    return resolve(call.func) == "logging.basicConfig" and not call.args and all(
        k.arg in _QUIET_LOGGING for k in call.keywords)  # fmt: skip


def harmless_calls(nodes: Iterable[ast.AST], resolve: Callable[[ast.AST], Any]) -> set[int]:
    """ids of the called names of calls that a name rule would flag but are harmless as written: ``open`` only to
    read (:func:`reads_a_file`), ``logging.basicConfig`` to stderr (:func:`quiet_logging_config`)."""
    return {id(n.func) for n in nodes if isinstance(n, ast.Call) and (reads_a_file(n, resolve) or
                                                                      quiet_logging_config(n, resolve))}  # fmt: skip

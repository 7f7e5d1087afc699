"""Library corners the name rules judge by what a name is, not by a table of its spellings (red-team round 2): a
vendor op under another name or as a private twin, os functions outside a small allow-list, and private names of
the standard library (each from a dotted name and its canonical form, :func:`guard.names.lookup`); a precision
flag turned off, which is no patching; ``open()`` called only to read, which the runtime audit judges by its path;
and annotations written as strings that are more than a type, which libraries evaluate.
"""

from __future__ import annotations

import ast
import sys
from typing import Any, Callable, Iterator, Mapping

from pytest_solbench.guard.identity import same_object
from pytest_solbench.guard.names import is_module, lookup
from pytest_solbench.guard.tables import (COMPILER_ALLOWED, COMPILER_INTERNALS, MODULE_RULES, NATIVE_NAMESPACES,
                                          OS_ALLOWED, TORCH_PRIVATE, TORCH_PRIVATE_ALLOWED,
                                          TORCH_PRIVATE_MODULES_ALLOWED)  # fmt: skip


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def vendor_family(op: str, vendor: Mapping[str, str], methods: Mapping[str, str], home: str = "") -> str | None:
    """The vendor family an op name belongs to, its private, fused and in-place variants too (``_fused_rms_norm``,
    ``silu_``), and the names a table entry ending in ``*`` starts (``_scaled_dot_product_flash_attention``);
    ``home``: another module the name stands for, without its prefix (``torch.linalg``: ``linalg_matmul``)."""
    bare = op.removesuffix("_") if not op.endswith("__") else op
    stem = home.rsplit(".", 1)[-1] + "_"
    for name in dict.fromkeys((op, bare, op.lstrip("_"), bare.lstrip("_"), bare.lstrip("_").removeprefix("fused_"))):
        homes = [f"torch.{name}", f"torch.nn.functional.{name}", f"torch.ops.aten.{name}"]
        homes += [f"{home}.{name}", f"{home}.{name.removeprefix(stem)}"] if home else []
        family = next((vendor[h] for h in homes if h in vendor), None) or methods.get(name) or next(
            (f for entry, f in vendor.items() if entry.endswith("*") and any(h.startswith(entry[:-1]) for h in homes)),
            None)  # fmt: skip
        if family:
            return family
    return None


def is_vendor_object(value: object, prefix: str) -> bool:
    """Whether ``value`` is the very function or class a vendor op's name stands for (``torch._C._nn.linear`` is
    ``torch.nn.functional.linear``); nothing that is not callable compares."""
    vendor = lookup(prefix)[1]
    return value is not None and callable(vendor) and value is vendor


def _under(name: str, entry: str) -> bool:
    """``name`` inside ``entry`` (not the entry itself): a dotted prefix, or a prefix as written where the entry ends
    in ``_`` (``torch._C._jit_`` holds ``torch._C._jit_get_operation``)."""
    if entry.endswith("_"):
        return name.startswith(entry)
    return name.startswith(entry + ".")


def _private_module(name: str) -> bool:
    """Whether ``name`` reaches into a private module of torch (the first part after ``torch`` that starts with one
    ``_`` and is a module on disk) outside TORCH_PRIVATE_MODULES_ALLOWED; a private function (``torch._scaled_mm``)
    is a vendor twin, judged as such."""
    parts = name.split(".")
    for index, part in enumerate(parts[1:-1] if parts[0] == "torch" else (), 1):
        if part.startswith("_") and not part.startswith("__"):
            head = ".".join(parts[: index + 1])
            return is_module(head) and not any(_matches(head, a) for a in TORCH_PRIVATE_MODULES_ALLOWED)
    return False


def vendor_aliases(name: str, aliases: list[str], value: object, vendor: Mapping[str, str],
                   methods: Mapping[str, str]) -> list[str]:  # fmt: skip
    """Messages for a vendor op the table does not spell: the same object under another name (``torch._C._nn.
    linear`` is ``F.linear``), any overload of a listed aten op, a private or fused twin (``torch._fused_rms_norm``)."""
    if any(_matches(n, prefix) for n in (name, *aliases) for prefix in vendor):
        return []  # named as the table spells it: that finding is made already
    found = [f"{name} is {prefix}, which does the whole {family} op" for prefix, family in vendor.items()
             if is_vendor_object(value, prefix)]  # fmt: skip
    parts = name.split(".")
    native = next((ns for n in (name, *aliases) for ns in NATIVE_NAMESPACES if _matches(n, ns) and n != ns), None)
    if native:  # torch._C._nn.silu is no object of the table, but is what F.silu calls (round 18, v11)
        family = vendor_family(parts[-1], vendor, methods, NATIVE_NAMESPACES[native])
        found += [f"uses {name}, the native binding of the op that does the whole {family} op"] if family else []
    elif _matches(name, "torch.ops.aten") and len(parts) > 3:
        family = vendor_family(parts[3], vendor, methods)
        found += [f"uses {name}, the aten op that does the whole {family} op"] if family else []
    elif parts[0] == "torch" and parts[-1].startswith("_") and not parts[-1].startswith("__"):
        family = vendor_family(parts[-1], vendor, methods)
        found += [f"uses {name}, a private variant of the op that does the whole {family} op"] if family else []
    home = _native_home(value)
    if not found and home:  # a second name of a native binding (from torch._C._nn import silu): its own name
        family = vendor_family(getattr(value, "__name__", ""), vendor, methods, home)
        found += [f"uses {name}, the native binding {value.__name__} of {home}, which does the whole {family} op"
                  ] if family else []  # fmt: skip
    return found


def _native_home(value: object) -> str | None:
    """Where a native binding of torch stands (``torch._C._nn.silu`` -> ``torch.nn.functional``), by the module
    its C code declares; None for anything else."""
    if type(value).__name__ != "builtin_function_or_method":
        return None
    module = getattr(value, "__module__", None)
    return "torch" if module == "torch" else NATIVE_NAMESPACES.get(module or "")


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
    same = same_object(name) if name.split(".")[0] not in local_modules else []  # a second name (round 18, v07)
    inside = [n for n in (name, canonical) if any(_under(n, c) for c in TORCH_PRIVATE) or _private_module(n)]
    if inside and not same and not any(_matches(n, a) for n in inside for a in TORCH_PRIVATE_ALLOWED) and not any(
            _matches(canonical, prefix) for prefix in MODULE_RULES):  # fmt: skip
        found.append(("computed-name", f"uses {name}, a private registry, binding or module of torch: it can find "
                      "an op by a string or hand torch's functions out as data, where no name rule follows"))  # fmt: skip
    found += same
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


def check_annotations(tree: ast.Module, hit: Callable[[str, ast.AST, str], None]) -> list[ast.AST]:
    """The code in string annotations, parsed, for the rules to read as the kernel's own (its line the
    annotation's): ``functools.singledispatch`` and ``torch.library.custom_op`` evaluate them (``typing``), and one
    that fetched the vendor op PASSED (red-team rounds 15 and 16, r08, r10, s01). One that is more than a type, or
    that does not parse, is a finding of its own. Annotations written as code are read as code already."""
    code: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
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

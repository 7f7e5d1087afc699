"""Library corners the name rules judge by what a name is, not by a table of its spellings (red-team round 2): a
vendor op under another name or as a private twin, os functions outside a small allow-list, and private names of
the standard library (each from a dotted name and its canonical form, :func:`guard.names.lookup`); a precision
flag turned off, which is no patching; ``open()`` called only to read, which the runtime audit judges by its path;
a script's ``if __name__ == "__main__":`` self-test, which an import never runs; ``logging.basicConfig`` that only
sets a level and a format (round 18). Strings evaluated as types are ``guard.annotations``'.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from typing import Any, Callable, Iterable, Mapping, Sequence

from pytest_solbench.guard.identity import same_object
from pytest_solbench.guard.names import is_module, lookup
from pytest_solbench.guard.tables import (COMPILER_ALLOWED, COMPILER_INTERNALS, MODULE_RULES, NATIVE_NAMESPACES,
                                          OS_ALLOWED, PRECISION_SETTINGS, SETTABLE, TORCH_PRIVATE,
                                          TORCH_PRIVATE_ALLOWED, TORCH_PRIVATE_MODULES_ALLOWED)  # fmt: skip


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


_BACKWARD = re.compile(r"_backward(?:_[a-z]+)?$")


def vendor_family(op: str, vendor: Mapping[str, str], methods: Mapping[str, str], home: str = "") -> str | None:
    """The vendor family an op name belongs to, its private, fused and in-place variants too (``_fused_rms_norm``,
    ``silu_``), and the names a table entry ending in ``*`` starts (``_scaled_dot_product_flash_attention``);
    ``home``: another module the name stands for, without its prefix (``torch.linalg``: ``linalg_matmul``)."""
    bare = op.removesuffix("_") if not op.endswith("__") else op
    stem = home.rsplit(".", 1)[-1] + "_"
    names = (op, bare, op.lstrip("_"), bare.lstrip("_"), bare.lstrip("_").removeprefix("fused_"))
    # torch's own backward kernels are the forward's family (native_layer_norm_backward, _softmax_backward_data,
    # convolution_backward_overrideable: round 21, e10 to e13)
    names += tuple(_BACKWARD.sub("", n) for n in names if _BACKWARD.search(n))
    for name in dict.fromkeys(names):
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
    elif len(parts) == 2 and parts[0] == "torch" or name.startswith("torch.nn.functional.") and len(parts) == 4:
        family = vendor_family(parts[-1], vendor, methods)  # torch.cudnn_convolution_relu: a prefix entry (round 21)
        found += [f"uses {name}, a variant of the op that does the whole {family} op"] if family else []
    home = _native_home(value)
    if not found and home:  # a second name of a native binding (from torch._C._nn import silu): its own name
        family = vendor_family(getattr(value, "__name__", ""), vendor, methods, home)
        found += [f"uses {name}, the native binding {value.__name__} of {home}, which does the whole {family} op"
                  ] if family else []  # fmt: skip
    return found


def vendor_holder(name: str, vendor: Mapping[str, str]) -> list[str]:
    """A message for ``name`` used as a value (not called where it is named) where a vendor entry is one of its
    attributes (``numpy.logaddexp``, whose ``.reduce`` is a logsumexp): once in a list or passed as an argument, the
    attribute is reached where no name rule follows it (``ops = [np.logaddexp]; ops[0].reduce(x)``, red-team round
    33, aw03). Calling it where it is named (``np.logaddexp(a, b)``) is elementwise and fine."""
    held = sorted(prefix for prefix in vendor if prefix.startswith(name + ".") and "*" not in prefix)
    if not held or _matches(name, "torch") or any(_matches(name, prefix) for prefix in vendor) or is_module(name):
        return []  # holds nothing; torch's, whose ops the record sees run; listed itself; a module (values)
    return [f"passes {name} around as a value: its {', '.join(p[len(name) + 1:] for p in held)} "
            f"{'does' if len(held) == 1 else 'do'} the whole {vendor[held[0]]} op where no rule follows it"]


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
    if top in local_modules:
        return found
    if private and top in sys.stdlib_module_names:
        found.append(("unlisted-import", f"uses {name}, a private name ({private[0]}) of the standard library: code "
                      "nobody reviewed as a kernel's"))  # fmt: skip
    elif top == "numpy" and (private or rest[:1] == ["core"]):  # numpy.core: the old name of numpy._core
        found.append(("unlisted-import", f"uses {name}, numpy's internals ({(private or rest)[0]}): the C functions "
                      "behind its public ones (numpy._core.multiarray.c_einsum is numpy.einsum's GEMM) go by other "
                      "names than the ones the rules list"))  # fmt: skip
    return found


_PRECISION_FLAGS = ("allow_tf32", "allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction")


def turns_off(node: ast.AST) -> bool:
    """``x.allow_tf32 = False``: a precision flag set to False, the safe side (its owner's other attributes are
    still patching)."""
    return (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value is False
            and all(isinstance(t, ast.Attribute) and t.attr in _PRECISION_FLAGS for t in node.targets))  # fmt: skip


def a_setting(node: ast.AST, target: ast.AST, resolve: Callable[[ast.AST], Any],
              fp32_only: bool) -> tuple[bool, tuple[str, str] | None]:  # fmt: skip
    """Whether ``target = value`` sets one of the settings users' preambles set (``tables.SETTABLE``: whatever the
    value, a constant, a module's constant or an environment variable, round 30, ar FV-1, FV-2; the value itself is
    read by the rules as any expression is), or a precision flag (``tables.PRECISION_SETTINGS``); and the (rule,
    message) it earns: ``precision-downgrade`` for a precision flag in an all-fp32 definition unless its value is the
    precise one written out."""
    value = getattr(node, "value", None)
    if not (isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(target, ast.Attribute) and value is not None):
        return False, None
    owner = resolve(target.value)
    name = f"{owner}.{target.attr}" if owner else ""
    if name in PRECISION_SETTINGS:
        precise = isinstance(value, ast.Constant) and value.value in (False, "ieee")
        if fp32_only and not precise:
            return True, ("precision-downgrade", f"sets {name} to {ast.unparse(value)[:60]} in a float32 definition")
        return True, None
    return name in SETTABLE, None


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


def locals_handed_on(tree: ast.AST, resolve: Callable[[ast.AST], Any]) -> set[int]:
    """ids of the called name in ``locals()`` handed straight to a call or a ``%`` inside a function's own body (a log
    line's values, ``str.format_map``, ``"%(n)d" % locals()``): there it is a copy of the function's own names, which
    writes nothing back (red-team round 50, cp FV8). In a class body or at module level it is the namespace itself,
    which a callee could fill (a hook set by key, round 49, ck03), so those stay ``introspection``."""
    found: set[int] = set()

    def bare_locals(node: ast.AST) -> bool:
        return (isinstance(node, ast.Call) and not node.args and not node.keywords
                and resolve(node.func) == "builtins.locals")  # fmt: skip

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, True)
                continue
            if isinstance(child, ast.ClassDef):
                visit(child, False)
                continue
            if in_function and isinstance(child, ast.Call):
                found.update(id(a.func) for a in (*child.args, *(k.value for k in child.keywords)) if bare_locals(a))
            if in_function and isinstance(child, ast.BinOp) and isinstance(child.op, ast.Mod) and bare_locals(
                    child.right):  # fmt: skip
                found.add(id(child.right.func))
            visit(child, in_function)

    visit(tree, False)
    return found


def harmless_calls(nodes: Iterable[ast.AST], resolve: Callable[[ast.AST], Any]) -> set[int]:
    """ids of the called names of calls that a name rule would flag but are harmless as written: ``open`` only to
    read (:func:`reads_a_file`), ``logging.basicConfig`` to stderr (:func:`quiet_logging_config`)."""
    return {id(n.func) for n in nodes if isinstance(n, ast.Call) and (reads_a_file(n, resolve) or
                                                                      quiet_logging_config(n, resolve))}  # fmt: skip

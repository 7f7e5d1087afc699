"""Reflection rules: reaching objects past their interface, by dunders, ``type(x)``, frames and names built at run time.

A deny-list of dunders loses to the one nobody listed (``__class__``, ``__globals__``, ``__builtins__``...), so
dunders are judged by allow-list (:data:`pytest_solbench.guard.tables.DUNDER_ATTRIBUTES` and its siblings): any
other dunder attribute, bare name, method definition or attribute string (``getattr(x, "__dict__")``) is a
``dunder`` finding. Patching through ``type(x).name = ...``, ``setattr(type(x), ...)`` or a class built at run time
is ``patching``; frames reached from a traceback are ``introspection``; attributes and modules named by a computed
string (``getattr(torch, name)``, ``importlib.import_module(prefix + "ing")``) are ``computed-name``.

Pure: reads an ``ast`` tree through the rules' name resolver and reports ``(rule, node, message)`` to ``hit``.
"""

from __future__ import annotations

import ast
import re
import string
from typing import Any, Callable

from pytest_solbench.guard.owned import exempt_dunders, field_reads
from pytest_solbench.guard.tables import (ATTRIBUTE_CALLS, DUNDER_ATTRIBUTES, DUNDER_METHODS, DUNDER_NAMES,
                                          FRAME_ATTRIBUTES, BELOW_RECORD_ATTRIBUTES, NAMESPACE_WRITERS)  # fmt: skip

Hit = Callable[[str, ast.AST, str], None]
_ALLOWED_SHOWN = "__name__, __doc__, __init__, __call__ and the like"


def is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def check_reflection(tree: ast.Module, resolve: Callable[[ast.AST], str | None], hit: Hit) -> None:
    """Every dunder, frame walk, ``type(x)`` patch and computed name in ``tree``."""
    methods = {id(item) for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for item in c.body}
    called_or_aliased = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)} | {
        id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign)}
    named = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in _CLASS_NAMES}
    own = exempt_dunders(tree, resolve) | field_reads(tree, resolve)  # the kernel's own objects (round 21)
    switched_off = {id(c.func) for c in ast.walk(tree) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
                    and c.func.attr in _FUSER_SWITCHES and not c.keywords and len(c.args) == 1
                    and isinstance(c.args[0], ast.Constant) and c.args[0].value is False}  # fmt: skip
    # hasattr(x, "__torch_function__"): a tensor-like test that sets nothing (red-team round 45, ca a07)
    asked = {id(c.args[1]) for c in ast.walk(tree) if isinstance(c, ast.Call) and len(c.args) == 2
             and resolve(c.func) == "builtins.hasattr" and isinstance(c.args[1], ast.Constant)
             and c.args[1].value in ASKED_PROTOCOLS}  # fmt: skip
    in_class = _class_level_names(tree)  # __str__ = __repr__, __hash__ = None in a class body (round 50, cp)
    in_class |= {id(e) for c in ast.walk(tree) if isinstance(c, ast.Call) and resolve(c.func) in _WRAPPERS
                 for v in [*c.args[1:], *(k.value for k in c.keywords if k.arg in ("assigned", "updated"))]
                 for e in ast.walk(v) if isinstance(e, ast.Constant) and e.value in _WRAPPER_DEFAULTS}  # round 52, cv
    pathed = {id(a) for c in ast.walk(tree) if isinstance(c, ast.Call) and (resolve(c.func) or "") in ATTRIBUTE_CALLS
              for a in c.args}  # an attribute path in a string: ``_attribute_path`` names what it reaches  # fmt: skip
    for node in ast.walk(tree):
        value = isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load) and (
            id(node) not in called_or_aliased)  # fmt: skip
        if value and resolve(node) in _NOT_VALUES:
            hit("computed-name", node, f"passes {_shown(node)} around as a value: the calls it makes are out of sight")
        if id(node) in own:
            continue
        option = node.arg if isinstance(node, ast.keyword) else node.attr if isinstance(node, ast.Attribute) else None
        if option and _below_record_option(option) and id(node) not in switched_off:  # config.patch(cpp_wrapper=True)
            hit("patching", node, _BELOW_RECORD_MESSAGE.format(option))
        if isinstance(node, ast.Attribute) and not (node.attr == "__class__" and id(node) in named):
            _attribute(node, resolve, hit)  # self.__class__.__name__ only reads what the class is called
        elif isinstance(node, ast.Name) and is_dunder(node.id) and node.id not in DUNDER_NAMES and not (
                node.id in _READ_ONLY_NAMES and isinstance(node.ctx, ast.Load)) and id(node) not in in_class:  # fmt: skip
            _dunder(hit, node, node.id, f"uses {node.id}, a dunder name outside the allow-list ({_ALLOWED_SHOWN})")
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                defined = isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and is_dunder(item.name)
                if defined and item.name in NUMPY_HOOKS:
                    hit("numpy-hook", item, _NUMPY_HOOK_MESSAGE.format(f"class {node.name} defines {item.name}"))
                elif defined and item.name not in DUNDER_METHODS and item.name not in _TENSOR_HOOKS:
                    hit("dunder", item, f"class {node.name} defines {item.name}, a hook outside the allow-list "
                        f"({', '.join(sorted(DUNDER_METHODS)[:6])}...)")  # fmt: skip
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and is_dunder(node.name):
            if id(node) not in methods:
                hit("dunder", node, f"defines {node.name} outside a class (a module hook)")
        elif isinstance(node, ast.Call):
            _call(node, resolve, hit)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _below_record_option(node.value):
            hit("patching", node, _BELOW_RECORD_MESSAGE.format(node.value))
        elif isinstance(node, ast.Constant) and node.value in TORCH_HOOKS and id(node) not in asked:  # ns[...] = f
            hit("tensor-subclass", node, f"names {node.value} in a string: torch's hook set by name, out of sight")
        elif isinstance(node, ast.Constant) and node.value in NUMPY_HOOKS:
            hit("numpy-hook", node, _NUMPY_HOOK_MESSAGE.format(f"names {node.value} in a string"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and is_dunder(node.value) and (
                node.value not in _DUNDER_STRINGS and id(node) not in pathed | asked | in_class):  # fmt: skip
            # a class namespace filled by key: numpy's __array_function__ set through a class body's namespace
            # handed numpy.dot to the kernel (red-team round 49, ck03, ck05)
            hit("dunder", node, f"names {node.value} in a string, a dunder outside the allow-list: a hook set or read "
                                "by name is out of the rules' sight")  # fmt: skip
        elif isinstance(node, ast.MatchClass):  # `case object(f_back=f)` reads f_back with no attribute node
            for name in node.kwd_attrs:  # (red-team round 19, w04, w04d)
                _attribute_path(ast.Constant(name), "a class pattern", node, hit, private=True)


_TENSOR_HOOKS = ("__torch_function__", "__torch_dispatch__")
#: Dunders a string may name: the allowed methods and attributes, a script's ``"__main__"``, a cache folder's name
_DUNDER_STRINGS = DUNDER_METHODS | DUNDER_ATTRIBUTES | DUNDER_NAMES | {"__main__", "__pycache__", "__future__"}
#: Bare names a kernel may read but never bind: ``importlib.resources.files(__package__)`` names its own package
#: (red-team round 18, fv3); a store would change what its relative imports resolve against.
_READ_ONLY_NAMES = ("__package__",)
_CLASS_NAMES = ("__name__", "__qualname__")  # the tensor-subclass rule names these
_ATTRIBUTE_BUILTINS = ("builtins.getattr", "builtins.setattr", "builtins.delattr", "builtins.vars")
#: ... and the importers: ``map(importlib.import_module, names)`` reached the plugin's own package by names joined at
#: run time, which no rule read as an import (red-team round 50, co01)
_NOT_VALUES = (*_ATTRIBUTE_BUILTINS, "importlib.import_module", "builtins.__import__", "importlib.__import__")


def _class_level_names(tree: ast.AST) -> set[int]:
    """ids of what a class body binds at its own level as a plain method would be: a name in ``DUNDER_METHODS`` stored
    or read there (``__str__ = __repr__``, ``__hash__ = None``, ``__str__ = str.__str__``; round 50, cp FV1, FV2),
    the ``"__weakref__"`` and ``"__dict__"`` strings of ``__slots__`` (FV4), and ``__match_args__`` bound to a tuple
    of plain attribute names (FV3)."""
    found: set[int] = set()
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for statement in cls.body:
            if not isinstance(statement, (ast.Assign, ast.AnnAssign)):
                continue
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            value = statement.value
            if names and all(n in DUNDER_METHODS for n in names):
                found.update(id(t) for t in targets)
                found.update(id(n) for n in ast.walk(value) if isinstance(n, ast.Name) and n.id in DUNDER_METHODS)
            elif names == ["__slots__"] and value is not None:
                found.update(id(t) for t in targets)
                found.update(id(n) for n in ast.walk(value) if isinstance(n, ast.Constant) and n.value in _CLASS_SLOTS)
            elif names == ["__match_args__"] and isinstance(value, (ast.Tuple, ast.List)) and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value.isidentifier()
                    and not e.value.startswith("_") for e in value.elts):  # fmt: skip
                found.update(id(t) for t in targets)
    return found


_WRAPPERS = ("functools.update_wrapper", "functools.wraps")
#: What ``functools.wraps(f)`` copies by default (``WRAPPER_ASSIGNMENTS``, ``WRAPPER_UPDATES``): naming any of them
#: reaches nothing a plain ``wraps`` does not
_WRAPPER_DEFAULTS = frozenset(("__module__", "__name__", "__qualname__", "__doc__", "__annotations__",
                               "__type_params__", "__dict__"))  # fmt: skip


def _wrapper_names(value: ast.AST, resolve: Callable[[ast.AST], str | None]) -> list[ast.Constant] | None:
    """The names a ``wraps``/``update_wrapper`` tuple holds: string constants, ``functools``' own default tuples
    and sums of them; None where any part is computed."""
    if isinstance(value, (ast.Tuple, ast.List)):
        if all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts):
            return list(value.elts)  # type: ignore[arg-type]
        return None
    if resolve(value) in ("functools.WRAPPER_ASSIGNMENTS", "functools.WRAPPER_UPDATES"):
        return []
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        left, right = _wrapper_names(value.left, resolve), _wrapper_names(value.right, resolve)
        return None if left is None or right is None else left + right
    return None


def _dunder(hit: Hit, node: ast.AST, name: str, message: str) -> None:
    """A dunder outside the allow-list: ``numpy-hook`` where it is one of numpy's override hooks (an allowance for
    dunders says nothing of what numpy hands them), else ``dunder``."""
    if name in NUMPY_HOOKS:
        hit("numpy-hook", node, _NUMPY_HOOK_MESSAGE.format(message.partition(",")[0]))
    else:
        hit("dunder", node, message)


def _attribute(node: ast.Attribute, resolve: Callable[[ast.AST], str | None], hit: Hit) -> None:
    if is_dunder(node.attr) and node.attr not in DUNDER_ATTRIBUTES:
        _dunder(hit, node, node.attr, f"{_shown(node)} uses {node.attr}, a dunder outside the allow-list "
                                      f"({_ALLOWED_SHOWN})")  # fmt: skip
    if node.attr in FRAME_ATTRIBUTES:
        hit("introspection", node, f"{_shown(node)} walks frames ({node.attr}): the harness's locals are one step away")
    if node.attr in BELOW_RECORD_ATTRIBUTES:
        hit("computed-name", node, f"{_shown(node)} reaches below the dispatcher ({node.attr}: an operator called, or "
                                   "a TorchScript graph edited by hand, where the judge's record of the operators a "
                                   "call dispatched never sees it)")  # fmt: skip
    if node.attr in NAMESPACE_WRITERS:
        hit("patching", node, f"{_shown(node)} writes into a module's namespace named by a string ({node.attr})")
    if isinstance(node.ctx, (ast.Store, ast.Del)) and _is_type_call(node.value, resolve):
        hit("patching", node, f"{_shown(node)} patches the class of an object it was given")


def _call(node: ast.Call, resolve: Callable[[ast.AST], str | None], hit: Hit) -> None:
    func = resolve(node.func) or ""
    args = node.args
    if func in ATTRIBUTE_CALLS:
        at = 0 if func.startswith("operator.") else 1
        names = args[at:] if func == "operator.attrgetter" else args[at:at + 1]  # attrgetter("a", "b.c")
        for name in names:
            if func == "builtins.hasattr" and isinstance(name, ast.Constant) and name.value in ASKED_PROTOCOLS:
                continue  # asking whether an object is tensor-like, or speaks an interop protocol, sets nothing
            _attribute_path(name, f"{func.split('.')[-1]}()", node, hit, private=func.startswith("operator."))
            if not isinstance(name, ast.Constant):  # on anything: getattr(run, "_" * 2 + ...)
                hit("computed-name", node, f"{func}() of a computed name hides what is reached")
        if func in ("builtins.setattr", "builtins.delattr") and args and _is_type_call(args[0], resolve):
            hit("patching", node, f"{func[9:]}() on type(...) patches the class of an object it was given")
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "format_map") and isinstance(
            node.func.value, ast.Constant) and isinstance(node.func.value.value, str):  # "{0.__globals__}".format(f)
        try:
            fields = [field for _, field, _, _ in string.Formatter().parse(node.func.value.value) if field]
        except ValueError:
            fields = []
        for field in fields:
            _attribute_path(ast.Constant(re.sub(r"\[([^]]*)\]", r".\1", field)), "a format field", node, hit)
    if any(k.arg == "with_keyset" and not (isinstance(k.value, ast.Constant) and not k.value.value) for k in node.keywords):
        hit("computed-name", node, "an operator implementation registered with_keyset: it exists to redispatch below "
                                   "the dispatcher's record of operators (red-team round 24, ae05)")  # fmt: skip
    if func == "torch.compile":
        options = next((k.value for k in node.keywords if k.arg == "options"), None)
        if options is not None and not (isinstance(options, ast.Dict) and all(
                isinstance(k, ast.Constant) and isinstance(k.value, str) for k in options.keys)):  # fmt: skip
            hit("computed-name", node, "torch.compile's options from a computed dict: which compiler options are set "
                                       "is out of the rules' sight")  # fmt: skip
    if func in _WRAPPERS:  # round 51, cr06: getattr/setattr by a tuple of names
        names = [k.value for k in node.keywords if k.arg in ("assigned", "updated")]
        names += args[2:] if func == "functools.update_wrapper" else args[1:]
        for value in names:
            parts = _wrapper_names(value, resolve)
            if parts is None:
                hit("computed-name", node, f"{func}() copies attributes named by a computed tuple: a getattr and a "
                                           "setattr of names out of the rules' sight")  # fmt: skip
            for element in parts or ():
                if element.value not in _WRAPPER_DEFAULTS:  # what a plain wraps(f) copies anyway (round 52, cv)
                    _attribute_path(element, f"{func.split('.')[-1]}()", node, hit, private=True)
    if func in CLASS_BUILDERS:  # a class body from a callback: round 44, bw01 (a torch function mode, no def named so)
        hit("patching", node, f"{func}() builds a class at run time, out of the rules' sight")
    if func == "builtins.type" and len(args) == 3:
        bases = args[1].elts if isinstance(args[1], (ast.Tuple, ast.List)) else [args[1]]
        if any((resolve(b) or "").endswith(("torch.Tensor", "torch._C.TensorBase")) for b in bases):
            hit("tensor-subclass", node, "type(name, bases, namespace) builds a torch.Tensor subclass at run time")
        else:
            hit("patching", node, "type(name, bases, namespace) builds a class at run time, out of the rules' sight")


#: torch's hooks into every call on tensors (a subclass's, a mode's)
TORCH_HOOKS = ("__torch_function__", "__torch_dispatch__")
#: numpy's override protocols: numpy calls them with its own function or ufunc as a value (red-team round 49, ck)
NUMPY_HOOKS = ("__array_function__", "__array_ufunc__")
_NUMPY_HOOK_MESSAGE = ("{}: numpy hands its own functions to that hook as values (numpy.dot, numpy.matmul: BLAS "
                       "products below torch's operator record), whatever numpy routine the kernel called")
#: Protocols ``hasattr`` may ask about by name: torch's hooks, and the interop protocols of cupy, numba and numpy (a
#: tensor-like test reads nothing and sets nothing; red-team round 45, ca a07; round 50, cp FV5)
ASKED_PROTOCOLS = (*TORCH_HOOKS, "__cuda_array_interface__", "__array_interface__", "__dlpack__", "__array__")
#: What a class body may bind by plain assignment besides its allowed methods: ``__slots__``' weak-reference and
#: dict slots, and ``__match_args__`` (a tuple of its own attribute names, PEP 634)
_CLASS_SLOTS = ("__weakref__", "__dict__")
#: Builders of a class from a function that fills its namespace: its hooks are set by item, named by no def
CLASS_BUILDERS = ("types.new_class", "types.prepare_class")


def _attribute_path(name: ast.AST, how: str, node: ast.AST, hit: Hit, private: bool = False) -> None:
    """Each part of a dotted attribute path named in a string (``attrgetter("f.__globals__")``, a format field
    ``{0.f_back.f_locals}``) or a class pattern: a dunder or frame attribute anywhere in it, not only as the whole
    string; with ``private``, a private name too (``attrgetter("_getframe")(torch.sys)``: round 19, w04d)."""
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        return
    for part in name.value.split("."):
        if is_dunder(part) and part not in DUNDER_ATTRIBUTES:
            _dunder(hit, node, part, f"{how} names {part}, a dunder outside the allow-list")
        elif part in FRAME_ATTRIBUTES:
            hit("introspection", node, f"{how} walks frames ({part})")
        elif part in BELOW_RECORD_ATTRIBUTES:
            hit("computed-name", node, f"{how} names {part}: below the dispatcher's record (an operator's call, a "
                "TorchScript graph's edit)")
        elif private and part.startswith("_") and not is_dunder(part):
            hit("computed-name", node, f"{how} reaches {part}, a private name, where no name rule follows")


_BELOW_RECORD_MESSAGE = ("names the compiler option {0!r}: code it generates calls torch's libraries, or does their "
                         "GEMMs and convolutions in templates of torch's, below the dispatcher's record of operators "
                         "(red-team rounds 25, ag03, and 27, ak02)")


#: oneDNN Graph's switches: called with a written-out False they switch it off, the safe side (red-team round 36, bd
#: FV-2); a kernel's process refuses "on" whatever the call says (``worker.rewrites``)
_FUSER_SWITCHES = ("enable_onednn_fusion", "_jit_set_llga_enabled")


def _below_record_option(text: str) -> bool:
    """Inductor's options (and their environment variables) whose generated code calls torch's libraries straight,
    below the dispatcher (the C++ wrapper, ahead-of-time compilation), or does a GEMM or convolution in a template of
    torch's (the backends of max-autotune's GEMMs and convolutions: ``worker.rewrites`` sets them to ``ATEN``)."""
    name = text.lower().removeprefix("torchinductor_")
    return (name in ("cpp_wrapper", "cpp_wrapper_build_separate") or name.startswith(("aot_inductor", "aoti"))
            or name in ("max_autotune_gemm_backends", "max_autotune_conv_backends", "enable_onednn_fusion",
                        "_jit_set_llga_enabled"))  # oneDNN Graph's partitions: a library's GEMMs (round 28, am02)


def _is_type_call(node: Any, resolve: Callable[[ast.AST], str | None]) -> bool:
    return isinstance(node, ast.Call) and resolve(node.func) == "builtins.type" and len(node.args) == 1


def _shown(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 50 else text[:47] + "..."


def check_store(target: ast.AST, resolve: Callable[[ast.AST], "str | None"], hit) -> None:
    """An assignment's target that patches what belongs to an imported module, or edits ``os.environ``."""
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            check_store(element, resolve, hit)
        return
    if isinstance(target, ast.Attribute):
        owner = resolve(target.value)
        if owner:
            hit("patching", target, f"assigns {owner}.{target.attr}, an attribute of an imported module or class")
    elif isinstance(target, ast.Subscript):
        owner = resolve(target.value)
        if owner == "os.environ":
            hit("file-network-os", target, "edits os.environ, which the harness and the libraries read")
        elif owner:
            hit("patching", target, f"edits {owner}, which belongs to an imported module")


_WRAPPERS = ("functools.update_wrapper", "functools.wraps")


def wrapper_patches(tree: ast.AST, resolve: Callable[[ast.AST], "str | None"]) -> list[ast.AST]:
    """Uses of ``functools.update_wrapper`` or ``functools.wraps`` on an object the kernel imported: they set
    attributes (and copy a whole ``__dict__``) with no assignment, and put a ``flush`` on the stream the worker
    flushed, or an ``encode`` on the class that wrote its replies (red-team round 42, bq01, bq03). A wrapper of the
    kernel's own (its def, class, instance, lambda, ``partial``, ``self``) is fine (round 43, bu FV-1 to FV-8); one
    reached under a name of its own is the run time's to catch (``pool.streams_replaced``, ``guard.integrity``)."""
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    outer = {id(c.func): c for c in calls}

    def foreign(node: ast.AST | None) -> bool:
        return node is not None and resolve(node) is not None

    found: list[ast.AST] = []
    for call in calls:
        name = resolve(call.func)
        if name == "functools.update_wrapper" and foreign(call.args[0] if call.args else None):
            found.append(call)
        elif name == "functools.wraps" and id(call) in outer:
            applied = outer[id(call)]
            if foreign(applied.args[0] if applied.args else None):
                found.append(call)
    callees = {id(c.func) for c in calls}
    found += [n for n in ast.walk(tree) if isinstance(n, (ast.Name, ast.Attribute)) and isinstance(n.ctx, ast.Load)
              and id(n) not in callees and resolve(n) in _WRAPPERS]  # handed on: partial(update_wrapper, ...)
    return found

"""Static rules over a kernel's sources: the tricks that make a kernel look fast or right without being either.

Python is read with ``ast`` (so strings, docstrings and comments never fire a rule) and every name is resolved
through the module's imports and simple aliases (``import torch as t``, ``from threading import Thread as T``,
``E = torch.cuda.Event``, ``getattr(torch.cuda, "Stream")``). C++/CUDA is read by a small tokenizer that blanks
comments and string literals first, keeping lines, then matches identifiers.

A kernel may allow a rule with a written reason: a module-level ``SOLBENCH_ALLOW = {"rule": "why"}`` in a Python
source, or ``spec.solbench_allow`` in its solution.json. A rule allowed without a reason, or an unknown rule,
is itself a finding (``bad-allowance``). Nothing here imports torch: the rules are tables of names.

Long: the one walk over a Python source that asks every rule of every name and call, with the allowances it reads
and the C++ scan; what each rule knows lives in its own module (``tables``, ``names``, ``numerics``, ``import_time``,
``reflection``, ``corners``, ``families``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Collection, Iterable, Iterator, Mapping, Sequence

from pytest_solbench.guard.annotations import check_annotations
from pytest_solbench.guard.corners import (a_setting, corner_findings, harmless_calls, locals_handed_on,
                                            skip_main_blocks, turns_off, vendor_aliases, vendor_holder)  # fmt: skip
from pytest_solbench.guard.families import BLOCK_PARTS, family_parts, library_of_no_family, matching_families
from pytest_solbench.guard.names import (Resolver, local_exports, lookup, module_trees, normalize_cpp, source_encoding,
                                         strip_cpp)  # fmt: skip
from pytest_solbench.guard.import_time import import_time_callees, lazy_local_import, names_used
from pytest_solbench.guard.numerics import PRODUCT_SAMPLERS, WEIGHTING_KEYWORDS, call_sites, unlisted_routine
from pytest_solbench.guard.owned import ARRAY_METHODS, kernel_attributes, own_attribute_reads, own_method_calls
from pytest_solbench.guard.patterns import Classes, check_classes, plain_exports
from pytest_solbench.guard.partial import hidden_imports, outside_the_listed_names, partly_importable, unimportable
from pytest_solbench.guard.pointers import pointer_keys
from pytest_solbench.guard.reflection import check_reflection, check_store, wrapper_patches
from pytest_solbench.guard.tables import (CPP_RULES, LIBRARY_CALLS, MODULE_RULES, REEXPORTED, WRITE_METHODS,
                                          vendor_families, vendor_names)  # fmt: skip
from pytest_solbench.guard.values import modules_as_values

RULES: dict[str, str] = {
    "side-stream": "launches work on a CUDA stream of its own, which a timer of the current stream may not see",
    "threads": "starts threads or processes, whose work can outlive the timed call",
    "file-network-os": "touches files, the network or the OS (open, writes, deletes, sockets, HTTP, environment)",
    "runtime-load": "loads or builds code at run time (ctypes, cffi, load_inline, dlopen, importlib by path, exec)",
    "pointer-cache": "keeps results keyed by a pointer, id or hash, or caches the entry point's results",
    "patching": "patches torch, triton, time, the plugin, builtins or sys.modules (timers and checks rely on them)",
    "introspection": "inspects frames, the garbage collector or tracing hooks (can reach the expected output)",
    "tensor-subclass": "defines or builds a torch.Tensor subclass (a lazy output can compute outside the timer)",
    "numpy-hook": "defines numpy's override hooks (__array_function__, __array_ufunc__), which hand numpy's own "
                  "functions, BLAS products among them, to the kernel's code below torch's operator record",
    "cuda-graph": "captures or replays CUDA graphs (a replay can skip the work or the timer)",
    "timing-flags": "changes event timing, device limits, clocks or the profiler (cudaEventDisableTiming, CUPTI)",
    "reference-call": "imports the plugin or the definition's reference",
    "vendor-op": "calls a library op that does the whole op under test",
    "precision-downgrade": "casts to 16- or 8-bit floats (or allows TF32) in a kernel whose definition is all fp32",
    "dunder": "reaches past an object's interface through a dunder outside the allow-list (__dict__, __class__...)",
    "computed-name": "names a module or attribute by a string built at run time (getattr, import_module, __import__)",
    "shadowing": "brings a file or folder named like an installed or standard module (torch.py, numpy/, typing.py)",
    "sourceless": "brings compiled code without its source (.pyc, .so, a binary) that the plugin did not build",
    "from-file": "maps a tensor or array onto a file (torch.from_file, numpy.memmap): writes with no kernel frame",
    "atexit": "registers code to run at exit, after the checks",
    "finalizer": "registers a finalizer (weakref.finalize, a weakref callback), which runs with no kernel frame",
    "signal-handler": "installs a signal handler or timer that interrupts the harness",
    "trace-hook": "installs a trace or profile hook (sys.settrace, setprofile, threading.settrace, sys.monitoring)",
    "audit-hook": "installs an audit hook (sys.addaudithook), which sees the harness's own events",
    "gc-walk": "walks the garbage collector's objects (gc.get_objects, get_referrers), the expected output among them",
    "ctypes": "uses ctypes, which reads and writes any memory and calls any native code",
    "bad-allowance": "an allowance without a written reason, or for a rule that does not exist",
    "unparsable": "a source the guard cannot parse, so it cannot vouch for it",
    "unlisted-routine": "uses a numpy, math or statistics routine outside the allow-list of a library-op family's "
                        "kernels (elementwise, creating and shaping arrays, plain reductions): the rest run whole "
                        "products, convolutions and transforms in C or BLAS",
    "unlisted-import": "imports a module outside the allow-list (torch, triton, numpy, math, functools...) that no "
                       "named rule covers: a module nobody reviewed (pkgutil, doctest, pydoc...) is not a way in",
}

PYTHON_SUFFIXES = (".py",)
CPP_SUFFIXES = (".cu", ".cuh", ".cpp", ".cc", ".cxx", ".c", ".h", ".hpp")
ALLOW_NAME = "SOLBENCH_ALLOW"
LOW_FLOATS = ("float16", "half", "bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz")


@dataclass(frozen=True)
class Finding:
    rule: str
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.message}"


def scan_sources(sources: Sequence[tuple[str, str]], *, definition_name: str, op_type: str,
                 allowed: Mapping[str, str] = {}, dtypes: Collection[str] = (), entry_point: str = "run",
                 solution: Mapping | None = None, local_modules: Collection[str] | None = None,
                 found: Iterable[Finding] = ()) -> list[Finding]:  # fmt: skip
    """Every finding in the kernel's ``(relative path, text)`` sources, sorted by file and line.

    ``dtypes``: the definition's input and output dtypes (the precision rule runs only when all floats are fp32);
    ``solution``: the solution.json object, whose ``spec.solbench_allow`` is checked for bad allowances;
    ``allowed``: rule -> reason (usually :func:`allowances`); findings of those rules are dropped;
    ``local_modules``: the kernel's own top-level module names (default: those of its Python sources), whose state
    it may change; ``found``: findings made elsewhere (about the kernel's files: :mod:`pytest_solbench.guard.bundle`).
    """
    floats = [d for d in dtypes if d.startswith(("float", "bfloat"))]
    fp32_only = bool(floats) and all(d == "float32" for d in floats)
    if local_modules is None:
        local_modules = [path.split("/", 1)[0].removesuffix(".py") for path, _ in sources if path.endswith(".py")]
    exports = local_exports(sources, frozenset(local_modules))
    trees = module_trees(sources)
    plain = plain_exports(trees, frozenset(local_modules), exports) if matching_families(op_type) else {}
    context = _Context(definition_name, op_type, fp32_only, entry_point, frozenset(local_modules), exports,
                       not lazy_local_import(sources, frozenset(local_modules)), names_used(sources), plain,
                       kernel_attributes(trees.values()))  # fmt: skip
    findings: list[Finding] = [*_allowance_findings(sources, solution)[1], *found]
    for path, text in skip_main_blocks(sources):  # a self-test under `if __name__ == "__main__":` never runs
        if path.endswith(PYTHON_SUFFIXES):
            findings += _scan_python(path, text, context)
        elif path.endswith(CPP_SUFFIXES):
            findings += _scan_cpp(path, text, context)
    # One finding per rule and line (the first), except bad allowances, which are each their own mistake.
    unique: dict[tuple, Finding] = {}
    for f in findings:
        if f.rule == "bad-allowance" or f.rule not in allowed:
            unique.setdefault((f.rule, f.path, f.line, f.message if f.rule == "bad-allowance" else ""), f)
    return sorted(unique.values(), key=lambda f: (f.path, f.line, f.rule))


def allowances(sources: Iterable[tuple[str, str]], solution: Mapping | None = None) -> dict[str, str]:
    """Rule -> written reason, from ``SOLBENCH_ALLOW`` in the Python sources and the solution's
    ``spec.solbench_allow``; bad allowances are left out (:func:`scan_sources` reports them)."""
    return _allowance_findings(sources, solution)[0]


# ---------------------------------------------------------------- allowances


def _allowance_findings(sources: Iterable[tuple[str, str]], solution: Mapping | None):
    """(rule -> reason of the good allowances, a bad-allowance finding for each bad one)."""
    good: dict[str, str] = {}
    bad: list[Finding] = []

    def take(path: str, line: int, rule: object, reason: object) -> None:
        if rule not in RULES or rule == "bad-allowance":
            bad.append(Finding("bad-allowance", path, line, f"allows {rule!r}, not a rule ({', '.join(RULES)})"))
        elif not isinstance(reason, str) or not reason.strip():
            bad.append(Finding("bad-allowance", path, line, f"allows {rule!r} without a written reason"))
        else:
            good[str(rule)] = reason.strip()

    for path, node in _allow_assignments(sources):
        if not isinstance(node.value, ast.Dict) or None in node.value.keys:
            message = f"{ALLOW_NAME} must be a dict literal {{rule: reason}}"
            bad.append(Finding("bad-allowance", path, node.lineno, message))
            continue
        for key, value in zip(node.value.keys, node.value.values):
            rule = key.value if isinstance(key, ast.Constant) else ast.unparse(key)
            take(path, key.lineno, rule, value.value if isinstance(value, ast.Constant) else None)
    spec = (solution or {}).get("spec")
    raw = spec.get("solbench_allow") if isinstance(spec, Mapping) else None
    if raw is not None and not isinstance(raw, Mapping):
        bad.append(Finding("bad-allowance", "solution.json", 0, "spec.solbench_allow must be an object {rule: reason}"))
    for rule, reason in raw.items() if isinstance(raw, Mapping) else ():
        take("solution.json", 0, rule, reason)
    return good, bad


def _allow_assignments(sources: Iterable[tuple[str, str]]) -> Iterator[tuple[str, ast.Assign | ast.AnnAssign]]:
    """Module-level ``SOLBENCH_ALLOW = ...`` statements of the Python sources that parse."""
    for path, text in sources:
        try:
            tree = ast.parse(text) if path.endswith(PYTHON_SUFFIXES) else None
        except SyntaxError:
            continue
        for node in tree.body if tree else ():
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            if node.__dict__.get("value") and any(isinstance(t, ast.Name) and t.id == ALLOW_NAME for t in targets):
                yield path, node


# ---------------------------------------------------------------- Python


@dataclass(frozen=True)
class _Context:
    definition_name: str
    op_type: str
    fp32_only: bool
    entry_point: str
    local_modules: frozenset[str]  # the kernel's own modules: patching its own state is fine
    exports: Mapping[str, Mapping[str, str]] = None  # local module (dotted) -> its module-level name -> dotted name
    imports_at_load: bool = True  # no module of the kernel's is first imported inside a function (``numerics``)
    names_by_path: Mapping[str, frozenset[str]] = None  # each Python source -> the names it uses (``names_used``)
    plain_classes: Mapping[str, frozenset[str]] = None  # each own module (dotted) -> its plain classes (``patterns``)
    own_attributes: frozenset[str] = frozenset()  # attribute names the kernel's sources bind (``owned``)


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


#: Calls that name an attribute by a string argument
_BY_NAME = ("builtins.getattr", "builtins.hasattr", "builtins.setattr", "builtins.delattr", "operator.attrgetter",
            "operator.methodcaller")  # fmt: skip
_CACHE_DECORATORS = ("functools.lru_cache", "functools.cache", "functools.cached_property", "cachetools")
_PATCH_CALLS = {"builtins.setattr", "builtins.delattr"}


def _scan_python(path: str, text: str, context: _Context) -> list[Finding]:
    cookie = source_encoding(text)
    if cookie:
        return [Finding("unparsable", path, cookie[0], f"declares the source encoding {cookie[1]!r}: the importer "
                        "would read other code than the rules do; use UTF-8")]  # fmt: skip
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        return [Finding("unparsable", path, exc.lineno or 0, f"syntax error: {exc.msg}")]
    resolver = Resolver(tree, context.local_modules, context.exports)
    found: list[Finding] = []

    def hit(rule: str, node: ast.AST, message: str) -> None:
        found.append(Finding(rule, path, getattr(node, "lineno", 0), message))

    vendor, vendor_methods = vendor_names(context.op_type)
    for node, name in resolver.imports:
        _check_name(name, node, hit, vendor, context, imported=True)
        if why := unimportable(name, context.local_modules):
            hit("unlisted-import", node, why)
    for node, message in hidden_imports(tree, resolver.resolve, context.local_modules):  # round 22, aa02, aa08
        hit("computed-name", node, message)
    annotated = check_annotations(tree, hit, resolver.resolve)  # string annotations and typing's data: round 16, 18
    walked = [*ast.walk(tree), *(n for code in annotated for n in ast.walk(code))]
    inner = {id(n.value) for n in walked if isinstance(n, ast.Attribute)} | harmless_calls(walked, resolver.resolve)
    inner |= locals_handed_on(tree, resolver.resolve)  # log.debug("%(n)d", locals()) in a function (round 50, cp)
    inner |= own_attribute_reads(walked, resolver.resolve)  # **vars(meta) (round 21, z05)
    own_calls = own_method_calls(tree, resolver.resolve)  # self.softmax(x) of a class that binds it (round 21, z29)
    methods_judged = {m: f for m, f in vendor_methods.items()  # a tensor's by a name the kernel binds: the record's
                      if m in ARRAY_METHODS or m not in context.own_attributes}  # (round 65, ei FV-1 to FV-10)
    defined = frozenset(f.name for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for f in c.body
                        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)))  # fmt: skip
    callees, plain_calls, folded = call_sites(walked, resolver.resolve)
    elsewhere = frozenset().union(*(names for p, names in (context.names_by_path or {}).items() if p != path),
                                  {context.entry_point})  # fmt: skip
    at_import = import_time_callees(tree, elsewhere) if context.imports_at_load else set()
    if matching_families(context.op_type):  # class patterns and what classes lend (rounds 60 to 62)
        module = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        check_classes(tree, Classes(tree, resolver, context.plain_classes or {}, module), vendor_methods, hit)
    for node in walked:
        if isinstance(node, ast.MatchClass) and (owner := resolver.resolve(node.cls)):
            for attr in node.kwd_attrs:  # case np.ndarray(dot=f): the attribute judged as a name (round 60, dr04)
                _check_name(f"{owner}.{attr}", node, hit, vendor, context, imported=False)
        if isinstance(node, ast.ClassDef) and matching_families(context.op_type):
            for base in (b for b in node.bases if (resolver.resolve(b) or "").startswith("numpy.")):
                hit("unlisted-routine", base, f"class {node.name} subclasses {resolver.resolve(base)}: numpy calls "
                    "a subclass's methods back (a draw that hands back the data makes multivariate_normal a GEMM) "
                    "and lends it its own (an ndarray's dot, reached as the subclass's): red-team rounds 58 to 61")
        if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load) and id(node) not in inner:
            name = resolver.resolve(node)
            if name:
                _check_name(name, node, hit, vendor, context, imported=False, plain_call=id(node) in plain_calls,
                            at_import=id(node) in at_import)
                if id(node) not in callees | folded:  # ops = [np.logaddexp]; ops[0].reduce(x) (round 33, aw03)
                    for message in vendor_holder(name, vendor):
                        hit("vendor-op", node, message)
        if (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and node.attr in vendor_methods
                and node.attr in ARRAY_METHODS and id(node) not in callees | own_calls
                and not resolver.resolve(node) and not resolver.local_module(node.value)):  # fmt: skip
            hit("vendor-op", node, f".{node.attr} read as a value is the method that does the whole "
                f"{vendor_methods[node.attr]} op (f = a.dot; f(w): red-team round 63)")  # fmt: skip
        matmul = isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.MatMult)
        if matmul and "matmul" in vendor_methods:
            hit("vendor-op", node, f"the @ operator calls the vendor matmul, the whole {context.op_type} op")
        if isinstance(node, ast.Call):
            name = resolver.resolve(node)  # getattr(module, "name"), __import__("name"), import_module("name")
            if name:
                _check_name(name, node, hit, vendor, context, imported=False)
                if resolver.resolve(node.func) in _IMPORT_CALLS and (why := unimportable(name, context.local_modules)):
                    hit("unlisted-import", node, why)
            _check_call(node, resolver, hit, {} if id(node) in own_calls else methods_judged, context, defined)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            if turns_off(node):
                continue  # torch.backends.cuda.matmul.allow_tf32 = False asks for more precision, not less
            for target in node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]:
                setting, wrong = a_setting(node, target, resolver.resolve, context.fp32_only)
                if wrong:
                    hit(wrong[0], target, wrong[1])
                if not setting:
                    check_store(target, resolver.resolve, hit)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):  # for torch.cuda.x in [f] (round 61, dv02)
            check_store(node.target, resolver.resolve, hit)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    check_store(item.optional_vars, resolver.resolve, hit)
        elif isinstance(node, ast.ClassDef):
            for base in node.bases:
                if (resolver.resolve(base) or "").endswith(("torch.Tensor", "torch._C.TensorBase")):
                    hit("tensor-subclass", node, f"class {node.name} subclasses torch.Tensor")
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name in ("__torch_function__", "__torch_dispatch__"):
                    hit("tensor-subclass", item, f"class {node.name} defines {item.name}")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == context.entry_point:
            for deco in node.decorator_list:
                name = resolver.resolve(deco.func if isinstance(deco, ast.Call) else deco) or ""
                if any(_matches(name, c) for c in _CACHE_DECORATORS):
                    hit("pointer-cache", deco, f"{name} on the entry point {node.name}() replays earlier results")
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None else []  # fmt: skip
        if any(isinstance(t, ast.Name) and t.id == context.entry_point for t in targets):
            for call in (n for n in ast.walk(node.value) if isinstance(n, ast.Call)):  # run = lru_cache(None)(f)
                name = resolver.resolve(call.func) or ""
                if any(_matches(name, c) for c in _CACHE_DECORATORS):
                    hit("pointer-cache", node, f"{name} wraps the entry point {context.entry_point}: it replays "
                        "earlier results")  # fmt: skip
    for node in pointer_keys(tree, resolver.resolve, context.own_attributes):
        hit("pointer-cache", node, "a pointer, id or hash is used as a key or kept between calls")
    check_reflection(tree, resolver.resolve, hit)
    for node in wrapper_patches(tree, resolver.resolve):  # round 42, bq01, bq03
        hit("patching", node, "functools.update_wrapper/wraps on an object not of the kernel's own sets its attributes")
    for node, shown in modules_as_values(tree, resolver):
        hit("computed-name", node, f"passes the module {shown} around as a value: what is reached through it "
            "is out of the rules' sight")  # fmt: skip
    return found


def _check_name(name: str, node: ast.AST, hit, vendor: dict[str, str], context: _Context, imported: bool,
                plain_call: bool = False, at_import: bool = False) -> None:  # fmt: skip
    parts = name.split(".")
    # typing.sys.settrace is sys.settrace: a rule's module reached through another module's attribute.
    aliases = [".".join(parts[i:]) for i in range(1, len(parts)) if parts[i] in REEXPORTED]
    canonical, value = lookup(name) if parts[0] not in context.local_modules else (name, None)
    if canonical != name:  # collections._sys.modules is sys.modules; torch.nn.modules.linear.F is torch.nn.functional
        aliases.append(canonical)
    for prefix, (rule, what) in MODULE_RULES.items():
        if _matches(name, prefix):
            hit(rule, node, f"{'imports' if imported else 'uses'} {name}: {what}")
        elif any(_matches(alias, prefix) for alias in aliases):
            hit(rule, node, f"reaches {prefix} through {name}: {what}")
    for prefix, family in vendor.items():
        if _matches(name, prefix):
            hit("vendor-op", node, f"{'imports' if imported else 'uses'} {name}, which does the whole {family} op")
        elif any(_matches(alias, prefix) for alias in aliases):  # F.torch.rms_norm
            hit("vendor-op", node, f"reaches {prefix} through {name}, which does the whole {family} op")
    vendor_methods = vendor_names(context.op_type)[1]
    for message in vendor_aliases(name, aliases, value, vendor, vendor_methods):
        hit("vendor-op", node, message)
    families = matching_families(context.op_type)  # a fused op's allow-lists too (round 40, bj03)
    # a block's too: its parts are families' whole ops, and numpy's FFT or BLAS is in no record (round 68, eq04, eq05)
    fused = not vendor and (len(families) > 1 or context.op_type in BLOCK_PARTS)
    if not families and parts[0] not in context.local_modules and (why := library_of_no_family(name, canonical)):
        hit("vendor-op", node, f"{'imports' if imported else 'uses'} {name}: {why}")
    if (vendor or fused) and parts[0] not in context.local_modules and not any(
            _matches(n, prefix) for n in (name, canonical, *aliases) for prefix in (*MODULE_RULES, *vendor)):  # fmt: skip
        products = at_import or (not fused and "mm" in family_parts(context.op_type))  # at import: on constants
        why = unlisted_routine(name, canonical, products=products,
                               plain_call=plain_call or imported)  # by allow-list (an import is no use)
        if why:
            hit("unlisted-routine", node, why)
        if parts[0] == "numpy" and len(parts) > 2 and parts[-1] in vendor_methods:  # numpy.ndarray.dot(x, w)
            hit("vendor-op", node, f"uses {name}, the method that does the whole {vendor_methods[parts[-1]]} op")
    for rule, message in corner_findings(name, canonical, context.local_modules):
        hit(rule, node, message)
    part = next((n for n in (name, canonical) if partly_importable(n) and outside_the_listed_names(n)), None)
    if part and not imported and parts[0] not in context.local_modules and not any(
            _matches(part, prefix) for prefix in MODULE_RULES):  # fmt: skip
        hit("unlisted-import", node, f"uses {name}, a name of {part.split('.')[0]} outside the few a kernel may use")
    local = parts[0] in context.local_modules  # a local package named after the definition is the kernel's own
    if _matches(name, "pytest_solbench") or (not local and "reference" in parts[1:]) or parts[0] == "reference" or (
        context.definition_name and context.definition_name in parts and not local
    ):
        hit("reference-call", node, f"{'imports' if imported else 'uses'} {name}: the answer, not a kernel")
    if context.fp32_only and parts[0] in ("torch", "triton") and parts[-1] in LOW_FLOATS:
        hit("precision-downgrade", node, f"uses {name} in a kernel whose definition is all float32")


_IMPORT_CALLS = ("builtins.__import__", "importlib.import_module", "importlib.__import__")


def _weighted(node: ast.Call, keyword: str) -> bool:
    """Whether a call passes ``keyword`` by name, or in a ``**`` of a dict written there (a literal, ``dict(...)``);
    a ``**`` of settings bound elsewhere is not read (``x.var(**REDUCE)``: red-team rounds 60 and 61, dt FV-7, dw
    FV-5 to FV-7)."""
    for k in node.keywords:
        value = k.value
        if k.arg == keyword or k.arg is None and (
                isinstance(value, ast.Dict) and {getattr(key, "value", None) for key in value.keys} & {keyword, None}
                or isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict"
                and any(kw.arg in (keyword, None) for kw in value.keywords)):  # fmt: skip
            return True
    return False


#: Method names the rules judge by name whose owner a kernel's own class may well be (a tile's ``dist``, running
#: statistics' ``var(mean=...)``: red-team round 59, dq FV-1 to FV-3): where a class of the file defines one, its
#: method form is let be; ``torch.dist`` and ``numpy.var(mean=...)`` themselves stay judged
OWNABLE_METHODS = frozenset(("dist", *WEIGHTING_KEYWORDS))


def _check_call(node: ast.Call, resolver: Resolver, hit, vendor_methods: dict[str, str], context: _Context,
                defined: frozenset[str] = frozenset()) -> None:  # fmt: skip
    func = resolver.resolve(node.func)
    method = node.func.attr if isinstance(node.func, ast.Attribute) else None
    if method and resolver.local_module(node.func.value):
        method = None  # kern.softmax(x): the kernel's own function, not a tensor method
    named = node.args[1 if func in ("builtins.getattr", "builtins.hasattr") else 0] if func in (
        "builtins.getattr", "builtins.hasattr", "operator.methodcaller") and len(node.args) > 1 - (
        func == "operator.methodcaller") else None  # fmt: skip
    if isinstance(named, ast.Constant) and named.value in vendor_methods:  # getattr(x, "softmax")(-1)
        hit("vendor-op", node, f"{func}({named.value!r}) reaches the vendor op that does the whole "
            f"{vendor_methods[named.value]} op")  # fmt: skip
    if func == "operator.attrgetter":  # attrgetter("dot")(a)(w), attrgetter("x.dot") (red-team round 63)
        for part in (p for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                     for p in a.value.split(".") if p in vendor_methods):  # fmt: skip
            hit("vendor-op", node, f"operator.attrgetter reads .{part}, the method that does the whole "
                f"{vendor_methods[part]} op")  # fmt: skip
    if func and func.startswith("torch.") and func.split(".")[-1] in vendor_methods:  # torch.Tensor.softmax(x)
        hit("vendor-op", node, f"{func}() calls the vendor op that does the whole {vendor_methods[func.split('.')[-1]]}"
            " op")  # fmt: skip
    owner = resolver.resolve(node.args[0]) if node.args else None
    name_at = 1 if func in ("builtins.getattr", "builtins.hasattr") else 0  # where the name is, for __import__: 0
    computed = len(node.args) > name_at and not isinstance(node.args[name_at], ast.Constant)
    if func in _PATCH_CALLS and owner:
        hit("patching", node, f"{func[9:]}() on {owner}, a module or class the harness uses")
    if func in ("builtins.__import__", "importlib.import_module", "importlib.__import__") and computed:
        hit("computed-name", node, f"{func}() of a computed name hides what is imported")
    if func in ("builtins.getattr", "builtins.hasattr") and owner and computed:
        hit("computed-name", node, f"{func[9:]}() of a computed name on {owner} hides what is used" + (
            " (triton.language reaches its core module's builtins; a table such as {torch.bfloat16: tl.bfloat16} "
            "names the dtypes openly)" if owner.startswith("triton.language") else ""))  # round 70, ew-FV3: kept
    if func in _BY_NAME and (any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords)):  # getattr(*(a, "dot")) (red-team round 64, ed01, ed13)  # fmt: skip
        hit("computed-name", node, f"{func}() of unpacked arguments hides which attribute it names")
    sampler = method if func is None and method in PRODUCT_SAMPLERS else getattr(named, "value", None)
    if sampler in PRODUCT_SAMPLERS and matching_families(context.op_type):  # rng.multivariate_normal (round 58, dl01)
        hit("unlisted-routine", node, f"{sampler} multiplies by a factor of the matrix it is given: with its normal "
            "draws handed back by a subclass it is a GEMM in LAPACK and BLAS")  # fmt: skip
    if method in OWNABLE_METHODS and method in defined:
        method = None  # first.dist(other) of the kernel's own Tile
    if func is None and method:
        weighting = WEIGHTING_KEYWORDS.get(method)
        if weighting and matching_families(context.op_type) and _weighted(node, weighting):
            hit("unlisted-routine", node, f".{method}({weighting}=...) is numpy's: with a {weighting} of other "
                "values it is every distance between them, a product")  # fmt: skip
        if method in vendor_methods:
            hit("vendor-op", node, f".{method}() calls the vendor op that does the whole {vendor_methods[method]} op")
        if method in ("as_subclass", "_make_subclass", "_make_wrapper_subclass"):
            hit("tensor-subclass", node, f".{method}() makes a torch.Tensor subclass")
        if method in WRITE_METHODS:
            hit("file-network-os", node, f".{method}() writes to or changes the file system")
        if context.fp32_only and method in ("half", "bfloat16"):
            hit("precision-downgrade", node, f".{method}() casts down in a kernel whose definition is all float32")
    args = node.args
    if func == "functools.partial" and args and (bound := resolver.resolve(args[0])) and bound.endswith(LIBRARY_CALLS):
        func, args = bound, args[1:]  # partial(Library, "aten")("IMPL") names the namespace here (round 53, cx02)
        if not args and not any(k.arg in ("ns", "qualname_or_op", "op_name", "op") for k in node.keywords):
            hit("patching", node, f"functools.partial({func}) leaves the namespace to a later call")
    namespace = args[0] if args else next((k.value for k in node.keywords if k.arg in ("ns", "qualname_or_op",
                                                                                       "op_name", "op")), None)
    if func and func.endswith(LIBRARY_CALLS) and namespace is not None:
        first = namespace
        if not isinstance(first, ast.Constant):
            hit("patching", node, f"{func}() of a computed namespace may override torch's own operators")
        elif str(first.value).split("::")[0] in ("aten", "prims", "prim", "_c10d_functional", "quantized"):
            hit("patching", node, f"{func}({first.value!r}) overrides torch's own operators")
    highest = bool(node.args) and isinstance(node.args[0], ast.Constant) and node.args[0].value == "highest"
    if func and func.endswith("set_float32_matmul_precision") and context.fp32_only and not highest:
        hit("precision-downgrade", node, "set_float32_matmul_precision allows TF32 in a float32 definition")


# ---------------------------------------------------------------- C++ / CUDA

def _scan_cpp(path: str, text: str, context: _Context) -> list[Finding]:
    code = normalize_cpp(strip_cpp(text))
    patterns = dict(CPP_RULES)
    for family in vendor_families(context.op_type):
        if family.cpp:
            patterns[family.cpp] = ("vendor-op", f"does the whole {context.op_type} op in a vendor library")
    found = []
    for pattern, (rule, what) in patterns.items():
        for match in re.finditer(pattern, code):
            line = code.count("\n", 0, match.start()) + 1
            found.append(Finding(rule, path, line, f"{match.group(0).strip()}: {what}"))
    return found

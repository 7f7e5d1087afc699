"""The static guard: red-team kernels fire their rule at the marked line; examples and references stay clean."""

from __future__ import annotations

import ast
import json
import py_compile
import shutil
from pathlib import Path

import pytest

from pytest_solbench.guard import bundle as bundle_module
from pytest_solbench.guard.bundle import kernel_bundle
from pytest_solbench.guard.rules import RULES, Finding, allowances, scan_sources, strip_cpp
from pytest_solbench.data.discovery import discover
from pytest_solbench.data.kernels import KernelSpec
from pytest_solbench.data.trace import Definition, load_definition

ROOT = Path(__file__).resolve().parents[1]
REDTEAM = ROOT / "tests" / "redteam"
DEFINITIONS = {
    d.name: d
    for d in map(load_definition, sorted((ROOT / "problems").glob("**/definition.json"))
                 + sorted((ROOT / "problems").glob("**/definitions/**/*.json")))
}  # fmt: skip
REDTEAM_KERNELS, REDTEAM_ERRORS = discover([REDTEAM])
EXAMPLE_KERNELS, EXAMPLE_ERRORS = discover([ROOT / "examples"])
VENDOR_IS_THE_POINT = {"vendor-op": "a reference is the vendor op by definition"}


def sources(kernel: KernelSpec) -> list[tuple[str, str]]:
    return list(kernel_bundle(kernel).sources)


def scan(kernel: KernelSpec, allowed: dict[str, str] | None = None) -> list[Finding]:
    """What the plugin's static layer finds: the rules over everything the kernel brings."""
    definition, bundle = DEFINITIONS[kernel.definition], kernel_bundle(kernel)
    return scan_sources(bundle.sources, definition_name=definition.name, op_type=definition.op_type,
                        dtypes=dtypes(definition), allowed=allowed or {}, local_modules=bundle.local_modules,
                        found=bundle.findings)  # fmt: skip


def made(kernel: KernelSpec, tmp_path: Path) -> KernelSpec:
    """A red-team kernel whose ``MAKE = {file: python source}`` names compiled files (a sourceless .pyc, a native
    library), which are not kept in git: its folder copied to ``tmp_path`` with those files built there."""
    make = constants(kernel).get("MAKE")
    if not make:
        return kernel
    folder = tmp_path / kernel.path.parent.name
    shutil.copytree(kernel.path.parent, folder)
    for name, text in make.items():
        if name.endswith(".pyc"):
            (tmp_path / "src.py").write_text(text)
            py_compile.compile(str(tmp_path / "src.py"), cfile=str(folder / name), doraise=True)
        else:  # a native library: an ELF header is all the rule needs to see
            (folder / name).write_bytes(b"\x7fELF\x02\x01\x01" + bytes(57))
    (copy,), _ = discover([folder / kernel.path.name])
    return copy


def dtypes(definition: Definition) -> list[str]:
    return [spec.dtype for spec in definition.inputs + definition.outputs]


def constants(kernel: KernelSpec) -> dict[str, object]:
    """EXPECTED, LAYER and CAUGHT_BY of a red-team kernel, read without importing it."""
    if kernel.path.suffix == ".json":
        return json.loads(kernel.path.read_text())
    tree = ast.parse(kernel.path.read_text())
    return {t.id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
            for t in n.targets if isinstance(t, ast.Name) and t.id.isupper() and t.id[0] != "_"}  # fmt: skip


def marked_lines(kernel: KernelSpec) -> list[tuple[str, int]]:
    """(file, line) of every line a red-team source marks with a trailing ``# HACK`` or ``// HACK`` comment."""
    return [(path, number) for path, text in sources(kernel) for number, line in enumerate(text.splitlines(), 1)
            if line.rstrip().endswith(("# HACK", "// HACK"))]  # fmt: skip


def by_layer(layer: str) -> list[KernelSpec]:
    return [k for k in REDTEAM_KERNELS if constants(k)["LAYER"] == layer]


def test_redteam_holds_at_least_60_kernels_each_with_a_trick_a_layer_and_an_expected_outcome() -> None:
    assert REDTEAM_ERRORS == []
    assert len(REDTEAM_KERNELS) >= 60
    for kernel in REDTEAM_KERNELS:
        found = constants(kernel)
        # runtime-own: a runtime check on a problem of the kernel's own (not RMSNorm), run in tests/test_judge.py
        layers = ("static", "runtime-cpu", "runtime-own", "runtime-gpu", "judge", "judge-gpu")
        assert found["LAYER"] in layers, kernel.path
        # PASSED: a trick against timers this harness does not use; it gains nothing, and its time is honest.
        judged = ("reply-schema", "timed-output", "kernel-set-changed", "no-kernel", "outside-clock", "input-mutation",
                  "shared-memory", "strict-output", "RUNTIME_ERROR", "TIMEOUT")  # test_judge.py; the last two: a
        # kernel that signals its judge
        assert found["EXPECTED"] in RULES or found["EXPECTED"] in ("REWARD_HACK", "INCORRECT_NUMERICAL", "PASSED",
                                                                   *judged), kernel.path  # fmt: skip
        assert kernel.definition in DEFINITIONS, kernel.path
        is_json = kernel.path.suffix == ".json"
        trick = found["description"] if is_json else ast.get_docstring(ast.parse(sources(kernel)[0][1]))
        assert trick, f"{kernel.path}: name the trick in a docstring (or the solution's description)"
    assert len(by_layer("static")) >= 50


def kernel_id(kernel: KernelSpec) -> str:
    return kernel.path.parent.name if kernel.path.parent != REDTEAM else kernel.path.stem


@pytest.mark.parametrize("kernel", by_layer("static"), ids=kernel_id)
def test_static_redteam_kernel_fires_its_rule_at_the_marked_line(kernel: KernelSpec, tmp_path: Path) -> None:
    expected = constants(kernel)["EXPECTED"]
    kernel = made(kernel, tmp_path)
    marks = marked_lines(kernel)
    assert len(marks) == 1, f"{kernel.path}: mark exactly one line with '# HACK'"
    findings = scan(kernel)
    assert any((f.rule, f.path, f.line) == (expected, *marks[0]) for f in findings), findings


@pytest.mark.parametrize("kernel", by_layer("runtime-cpu") + by_layer("runtime-own") + by_layer("runtime-gpu"),
                         ids=kernel_id)
def test_runtime_redteam_kernel_passes_the_static_layer_so_only_a_runtime_check_catches_it(kernel: KernelSpec) -> None:
    assert constants(kernel)["CAUGHT_BY"]
    assert scan(kernel, allowances(sources(kernel))) == []


@pytest.mark.parametrize("kernel", EXAMPLE_KERNELS, ids=lambda k: k.name)
def test_every_example_passes_every_rule(kernel: KernelSpec) -> None:
    assert EXAMPLE_ERRORS == []
    assert scan(kernel) == []


@pytest.mark.parametrize("definition", DEFINITIONS.values(), ids=lambda d: d.name)
def test_every_reference_passes_every_rule_but_being_the_vendor_op(definition: Definition) -> None:
    found = scan_sources([("reference.py", definition.reference)], definition_name=definition.name,
                         op_type=definition.op_type, dtypes=dtypes(definition),
                         allowed=VENDOR_IS_THE_POINT)  # fmt: skip
    assert found == []


def py(text: str, op_type: str = "rmsnorm", **kwargs) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in scan_sources([("k.py", text)], definition_name="p", op_type=op_type, **kwargs)]


def test_aliases_are_followed_and_strings_and_comments_are_not_code() -> None:
    assert py("import torch as t\ns = t.cuda.Stream()\n") == [("side-stream", 2)]
    assert py("from torch import cuda as c\nwith c.stream(None):\n    pass\n") == [("side-stream", 2)]
    assert py("from threading import Thread as T\n") == [("threads", 1)]
    assert py("import torch\nE = torch.cuda\nF = E\nF.ExternalStream(0)\n") == [("side-stream", 4)]
    assert py("import os\nos.system('ls')\n") == [("threads", 2)]
    assert py("import os\nn = os.environ.get('N')\nos.environ['N'] = '1'\n") == [("file-network-os", 3)]
    assert py('"""torch.cuda.Stream() in a docstring"""\nx = "import threading"  # os.system("rm")\n') == []


def test_triton_and_ordinary_torch_are_not_flagged() -> None:
    honest = (
        "import torch\nimport triton\nimport triton.language as tl\n\n"
        "@triton.autotune(configs=[triton.Config({'B': 128})], key=['n'])\n@triton.jit\n"
        "def k(x, n, B: tl.constexpr):\n    o = tl.arange(0, B)\n    tl.store(x + o, tl.load(x + o) * 2)\n\n"
        "def run(x):\n    y = torch.empty(x.shape, device=x.device).view(-1).contiguous()\n"
        "    s = torch.cuda.current_stream()\n    p = torch.cuda.get_device_properties(0)\n"
        "    assert x.data_ptr() % 16 == 0\n    k[(triton.cdiv(x.numel(), 128),)](x, x.numel())\n    return y\n"
    )
    assert py(honest) == []


def test_pointer_keys_patching_and_setattr() -> None:
    assert py("_c = {}\ndef run(x):\n    return _c.get(x.data_ptr())\n") == [("pointer-cache", 3)]
    assert py("_last = None\ndef run(x):\n    global _last\n    _last = id(x)\n") == [("pointer-cache", 4)]
    assert py("class K:\n    def run(self, x):\n        return x.data_ptr() == self.ptr\n") == [("pointer-cache", 3)]
    assert py("def run(x, out):\n    if x.data_ptr() == out.data_ptr():\n        x = x.clone()\n") == []
    assert py("import torch\ntorch.Tensor.__sub__ = None\n") == [("dunder", 2), ("patching", 2)]
    assert py("import time\nsetattr(time, 'time', None)\n") == [("unlisted-import", 1), ("patching", 2)]
    assert py("import functools\n@functools.cache\ndef helper(n):\n    return n\n") == []


def test_a_kernel_may_change_its_own_modules_state() -> None:
    helper = ("tables.py", "CONFIGS = {}\n")
    kernel = ("kernel.py", "import tables\nfrom . import tables as t\ntables.CONFIGS[4096] = 8\nt.best = 1\n")
    assert scan_sources([helper, kernel], definition_name="p", op_type="rmsnorm") == []


def test_vendor_ops_depend_on_the_op_type() -> None:
    assert py("def run(a, b):\n    return a @ b\n", op_type="gemm") == [("vendor-op", 2)]
    assert py("def run(a, b):\n    a @= b\n    return a\n", op_type="linear") == [("vendor-op", 2)]
    assert ("vendor-op", 2) in py("def run(a, b):\n    a.__imatmul__(b)\n    return a\n", op_type="gemm")  # r32, au03
    assert py("import numpy as np\ndef run(x, rows, acc):\n    np.logaddexp.at(acc, rows, x)\n    return acc\n",
              op_type="softmax") == [("vendor-op", 3)]  # r33, aw01
    assert py("from numpy.polynomial import polynomial as P\nT = P.polyfromroots([1.0, 2.0])\n"
              "def run(x):\n    return P.polymul(x, x)\n", op_type="conv2d") == [("vendor-op", 4)]  # r32, av FV-1
    assert py("def run(a, b):\n    return a @ b\n", op_type="rmsnorm") == []
    assert py("import torch\ndef run(x):\n    return torch.softmax(x, -1)\n", op_type="gqa_paged") == []
    assert py("import torch.nn.functional as F\ndef run(x, w):\n    return F.layer_norm(x, (8,), w)\n",
              op_type="layernorm") == [("vendor-op", 3)]  # fmt: skip


def test_precision_downgrade_only_when_the_definition_is_all_float32() -> None:
    code = "import torch\ndef run(x):\n    return x.half().float()\n"
    assert py(code, dtypes=["float32", "float32"]) == [("precision-downgrade", 3)]
    assert py(code, dtypes=["bfloat16", "float32"]) == []
    assert py(code) == []


def test_the_settings_preambles_set_are_allowed_and_other_attributes_are_patching() -> None:
    """Red-team rounds 29 and 30 (ap FV-1 to FV-3, ar FV-1 to FV-4): cuDNN's benchmark flag, dynamo's cache limit and
    Inductor's tuning knobs pass, set to constants, module constants or environment variables; TF32 on (or a value
    not written out) is a precision downgrade in an all-fp32 definition only; a backend that chooses where a compiled
    GEMM runs, another attribute, and an augmented assignment stay ``patching``."""
    preamble = ("import torch\nimport torch._dynamo.config\nimport torch._inductor.config as ic\n"
                "torch.backends.cudnn.benchmark = True\ntorch._dynamo.config.cache_size_limit = 64\n"
                "ic.coordinate_descent_tuning = True\ntorch.backends.cuda.matmul.allow_tf32 = True\n"
                "torch.backends.cuda.matmul.fp32_precision = 'ieee'\n")  # fmt: skip
    assert py(preamble) == []
    assert py(preamble, dtypes=["float32", "float32"]) == [("precision-downgrade", 7)]
    assert py("import torch._inductor.config as ic\nic.max_autotune_gemm_backends = 'ATEN'\n") == [("patching", 2)]
    assert py("import os\nimport torch\nFLAG = True\ntorch.backends.cudnn.benchmark = FLAG\n"
              "torch._dynamo.config.cache_size_limit = int(os.environ.get('LIMIT', '8')) * 8\n") == []  # round 30
    assert py("import torch\nflag = True\ntorch.backends.cuda.matmul.allow_tf32 = flag\n",
              dtypes=["float32"]) == [("precision-downgrade", 3)]  # fmt: skip
    assert py("import torch\ntorch.backends.cudnn.deterministic = torch.backends.cudnn.x = True\n") == [
        ("patching", 2)]  # fmt: skip
    assert py("import torch\ntorch.backends.nnpack.enabled = False\n") == [("patching", 2)]
    assert py("import torch\ntorch.backends.cudnn.benchmark += 1\n") == [("patching", 2)]


def test_cpp_strips_comments_and_strings_but_keeps_lines() -> None:
    text = '// cudaStreamCreate\nconst char* s = "fork()";\n/* dlopen\n */ int x = 1;\ncudaStreamCreate(&s);\n'
    assert strip_cpp(text).count("\n") == text.count("\n")
    found = scan_sources([("k.cu", text)], definition_name="p", op_type="rmsnorm")
    assert [(f.rule, f.line) for f in found] == [("side-stream", 5)]


def test_allowances_need_a_known_rule_and_a_written_reason() -> None:
    text = 'SOLBENCH_ALLOW = {"threads": "the pool is joined before run returns", "side-stream": " ", "nope": "x"}\n'
    text += "import threading\n"
    solution = {"spec": {"solbench_allow": {"file-network-os": "reads its own tuning table", "nope2": "why"}}}
    assert allowances([("k.py", text)], solution) == {
        "threads": "the pool is joined before run returns", "file-network-os": "reads its own tuning table"
    }
    found = scan_sources([("k.py", text)], definition_name="p", op_type="x", allowed=allowances([("k.py", text)]),
                         solution=solution)  # fmt: skip
    assert [(f.rule, f.path) for f in found] == [("bad-allowance", "k.py")] * 2 + [("bad-allowance", "solution.json")]
    assert py("SOLBENCH_ALLOW = dict(threads='x')\n") == [("bad-allowance", 1)]


def test_every_rule_has_a_description_and_unparsable_sources_are_findings() -> None:
    assert all(RULES.values())
    assert py("def run(:\n") == [("unparsable", 1)]
    assert str(Finding("threads", "k.py", 3, "m")) == "k.py:3: [threads] m"


# ---------------------------------------------------------------- reflection, named rules, what a kernel brings


def test_dunders_are_judged_by_allow_list() -> None:
    honest = ("class Cfg:\n    __slots__ = ('n',)\n    def __init__(self, n):\n        self.n = n\n"
              "    def __call__(self, x):\n        return x\n"
              "    def __repr__(self):\n        return type(self).__name__\n"
              "def run(x):\n    return Cfg(1)(x)\nif __name__ == '__main__':\n    print(run.__doc__, __file__)\n")
    assert py(honest) == []
    assert py("import sys\nm = sys.__dict__['modules']\n") == [("dunder", 2)]
    assert py("def run(x):\n    x.__class__ = object\n") == [("dunder", 2)]
    assert py("def run(x):\n    return run.__globals__\n") == [("dunder", 2)]
    assert py("b = __builtins__['open']\n") == [("dunder", 1)]
    assert py("object.__setattr__(1, 'a', 2)\n") == [("dunder", 1)]
    assert py("def run(x):\n    return getattr(x, '__dict__')\n") == [("dunder", 2)]
    assert py("class K:\n    def __del__(self):\n        pass\n") == [("dunder", 2)]
    assert py("def __getattr__(name):\n    return name\n") == [("dunder", 1)]
    assert py("subs = object.__subclasses__()\n") == [("dunder", 1)]


def test_package_is_a_bare_name_to_read_never_to_bind() -> None:
    """``importlib.resources.files(__package__)`` names the kernel's own package (red-team round 18, fv3)."""
    assert py("def table():\n    return __package__\n") == []
    assert py("__package__ = 'torch'\n") == [("dunder", 1)]
    assert py("def f():\n    global __package__\n    del __package__\n") == [("dunder", 3)]


def test_type_patching_setattr_on_classes_and_classes_built_at_run_time() -> None:
    assert py("def run(x):\n    type(x).sum = lambda *a: 0\n") == [("patching", 2)]
    assert py("def run(x):\n    setattr(type(x), 'sum', None)\n") == [("patching", 2)]
    assert py("import torch\nL = type('L', (torch.Tensor,), {})\n") == [("tensor-subclass", 2)]
    assert py("C = type('C', (), {})\n") == [("patching", 1)]
    assert py("def run(x):\n    return type(x)(x)\n") == []


def test_modules_passed_as_values_and_reached_through_other_modules() -> None:
    assert py("import sys\ndef hook(m):\n    m.settrace(print)\nhook(sys)\n") == [("computed-name", 4)]
    assert py("import sys as s\nmods = [s]\n") == [("computed-name", 2)]
    assert py("import torch\nt = torch\nx = getattr(t, 'float32')\nok = hasattr(torch, 'cuda')\n") == []
    assert py("import typing\ntyping.sys.settrace(print)\n") == [("trace-hook", 2)]
    assert py("import os\nm = os.sys.modules\n") == [("patching", 2)]
    assert py("import torch\nw = torch.signal.windows.hann(8)\n") == []
    assert py("import torch\nlist(map(setattr, [torch.Tensor], ['sum'], [None]))\n") == [("computed-name", 2)]
    assert py("g = getattr\nx = g(1, 'real')\n") == []


def test_names_built_at_run_time_and_frames_from_tracebacks() -> None:
    assert py("import torch\nname = 'cu' + 'da'\nc = getattr(torch, name)\n") == [("computed-name", 3)]
    # import importlib is fine since round 21 (z30: the README's import_module of a helper by a constant name)
    assert py("import importlib\nm = importlib.import_module('thread' + 'ing')\n") == [("computed-name", 2)]
    assert py("m = __import__('os')\n") == [("dunder", 1)]
    assert py("import torch\nc = getattr(torch, 'float32')\n") == []
    code = ("def run(x):\n    try:\n        1 / 0\n    except ZeroDivisionError as e:\n"
            "        return e.__traceback__.tb_frame\n")
    assert sorted(py(code)) == [("dunder", 5), ("introspection", 5)]
    assert py("import torch\nlib = torch.library.Library('at' + 'en', 'IMPL')\n") == [("patching", 2)]
    own_op = "import torch\n@torch.library.custom_op('mylib::add', mutates_args=())\ndef add(x):\n    return x\n"
    assert py(own_op) == []


@pytest.mark.parametrize(("code", "rule"), [
    ("import torch\nt = torch.from_file('/tmp/x', shared=True, size=8)\n", "from-file"),
    ("import torch\ns = torch.UntypedStorage.from_file('/tmp/x', True, 8)\n", "from-file"),
    ("import numpy as np\na = np.memmap('/tmp/x', mode='w+', shape=(8,))\n", "from-file"),
    ("import atexit\natexit.register(print)\n", "atexit"),
    ("import weakref\nweakref.finalize(object(), print, 'x')\n", "finalizer"),
    ("import signal\nsignal.signal(signal.SIGALRM, print)\n", "signal-handler"),
    ("import sys\nsys.setprofile(None)\n", "trace-hook"),
    ("from threading import settrace\nsettrace(print)\n", "trace-hook"),
    ("import sys\nsys.addaudithook(print)\n", "audit-hook"),
    ("import gc\nr = gc.get_referrers(1)\n", "gc-walk"),
    ("from ctypes import memmove\nmemmove(0, 0, 0)\n", "ctypes"),
    ("import sys\nsys.path.insert(0, '/tmp')\n", "runtime-load"),
])  # fmt: skip
def test_named_rules(code: str, rule: str) -> None:
    assert rule in {r for r, _ in py(code)}, py(code)


def test_alignment_dispatch_passes_but_a_pointer_key_still_fails() -> None:
    honest = ("_fns = {}\ndef run(x):\n    aligned = x.data_ptr() % 16 == 0\n    key = (x.shape[-1], aligned)\n"
              "    if key not in _fns:\n        _fns[key] = 1\n    return _fns[key], x.data_ptr() & 15\n")
    assert py(honest) == []
    cheat = "_c = {}\ndef run(x):\n    key = (x.shape[-1], x.data_ptr() % 4099)\n    return _c.get(key)\n"
    assert py(cheat) == [("pointer-cache", 4)]
    assert py("_c = {}\ndef run(x):\n    return _c.get(x.data_ptr() & ~15)\n") == [("pointer-cache", 3)]


def test_alignment_modulo_a_named_constant_passes_where_the_name_holds_a_small_int_for_good() -> None:
    """Red-team round 70, ew-FV2: vLLM's ``x.data_ptr() % VEC_BYTES`` with ``VEC_BYTES = 16`` was a pointer cache
    while the literal passed. A module's name bound once to a small int is that literal; bound again anywhere, or to
    a large number, it is not."""
    body = "def run(x):\n    key = (x.shape[-1], x.data_ptr() % VEC)\n    return _c.get(key)\n"
    assert py("VEC = 16\n_c = {}\n" + body) == []
    assert py("VEC = 4099\n_c = {}\n" + body) == [("pointer-cache", 5)]
    assert py("VEC = 16\n_c = {}\n" + body + "def widen():\n    global VEC\n    VEC = 4099\n") != []
    assert py("VEC = 16\nVEC = 4099\n_c = {}\n" + body) != []
    assert py("VEC = 16\n_c = {}\n" + body.replace("def run(x):", "def run(x, VEC=4099):")) != []
    # round 71: the mask idiom, annotated and tuple constants, a Triton kernel's parameter of the same name (ex-FV1 to 4)
    assert py("VEC = 16\n_c = {}\n" + body.replace("% VEC", "& (VEC - 1)")) == []
    assert py("VEC: int = 16\n_c = {}\n" + body) == []
    assert py("VEC, LANES = 16, 8\n_c = {}\n" + body) == []
    assert py("VEC = 16\n_c = {}\ndef k(p, VEC):\n    return p\n" + body) == []
    # ...but not a name a match capture, a rebound import or another file's store makes (ex02 to ex04)
    assert py("VEC = 16\nmatch 1 << 62:\n    case VEC:\n        pass\n_c = {}\n" + body) != []
    gcd = "from math import gcd\ngcd = max\n_c = {}\ndef run(x):\n    return _c.get(gcd(x.data_ptr(), 16))\n"
    assert py(gcd) != []
    assert py("_SEEN = []\ndef run(x):\n    _SEEN.append(x.data_ptr())\n") != []  # a module list keeps it (ex06)
    assert py("def run(xs):\n    ptrs = []\n    ptrs.append(xs.data_ptr())\n    return ptrs\n") == []  # a launch's


def test_a_pointer_passed_to_a_memoized_function_is_a_key() -> None:
    """Red-team round 70 (attack-ew, caught at run time only): ``functools.lru_cache`` over a helper given the inputs'
    addresses keeps a result per address; a shape given to ``functools.cache`` stays honest."""
    cheat = ("import functools\n@functools.lru_cache(maxsize=64)\ndef answer(p, n):\n    return n\n"
             "def run(x):\n    return answer(x.data_ptr(), x.shape[0])\n")
    assert py(cheat) == [("pointer-cache", 6)]
    assert py(cheat.replace("@functools.lru_cache(maxsize=64)", "@functools.cache")) == [("pointer-cache", 6)]
    honest = ("import functools\n@functools.cache\ndef config(n, aligned):\n    return n\n"
              "def run(x):\n    return config(x.shape[0], x.data_ptr() % 16 == 0)\n")
    assert py(honest) == []
    gcd = ("import functools, math\ndef align(*ts):\n    return min(math.gcd(t.data_ptr(), 16) for t in ts)\n"
           "@functools.cache\ndef config(n, a):\n    return n\ndef run(x):\n    return config(x.shape[0], align(x))\n")
    assert py(gcd) == []  # the largest power of two up to 16 dividing every address (attack-ew's honest kernel)
    own = "class math:\n    gcd = max\n_c = {}\ndef run(x):\n    return _c.get(math.gcd(x.data_ptr(), 16))\n"
    assert py(own) != []  # a gcd of its own may return the pointer


def write(folder: Path, files: dict[str, str | bytes]) -> KernelSpec:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content) if isinstance(content, bytes) else (folder / name).write_text(content)
    return KernelSpec("k", "p", folder / "k.py", "python", "k.py", "run")


def bundled(kernel: KernelSpec) -> list[tuple[str, str, int]]:
    bundle = kernel_bundle(kernel)
    found = scan_sources(bundle.sources, definition_name="p", op_type="rmsnorm", local_modules=bundle.local_modules,
                         found=bundle.findings)  # fmt: skip
    return [(f.rule, f.path, f.line) for f in found]


def test_round_72_pointer_idioms_honest_and_not() -> None:
    """Red-team round 72 (attack-ez): honest alignment idioms read as pointers (a helper's reduction passed to a
    memoized function, a constant per architecture, a function's own constant, a launcher a cached factory made,
    ``hash(tuple(x.shape))``); and pointers rebuilt from small masks, behind a size attribute or a star import."""
    helper = ("import functools\n@functools.cache\ndef config(n, a):\n    return n\n"
              "def align(ts):\n    return min(min(t.data_ptr() & -t.data_ptr(), 16) for t in ts)\n"
              "def run(x):\n    return config(x.shape[0], align([x]))\n")
    assert py(helper) == []  # ez-FV1: the lowest set bit, capped; a helper's return is left to the run-time checks
    arch = "VEC = 32 if BIG else 16\n_c = {}\ndef run(x):\n    return _c.get(x.data_ptr() % VEC)\n"
    assert py(arch) == []  # ez-FV3
    assert py(arch.replace("32 if BIG else 16", "1 << 40 if BIG else 16")) != []
    local = "_c = {}\ndef run(x):\n    vec = 16\n    return _c.get(x.data_ptr() % vec)\n"
    assert py(local) == []  # ez-FV4
    assert py(local.replace("    return", "    vec = 1 << 40\n    return")) != []
    launcher = ("import functools\n@functools.cache\ndef launcher(n):\n    return print\n"
                "def run(x):\n    go = launcher(x.shape[0])\n    return go(x.data_ptr())\n")
    assert py(launcher) == []  # ez-FV6: a cached factory's result is not a cache
    assert py("_p = {}\ndef run(x):\n    return _p.get(hash(tuple(x.shape)))\n") == []  # ez-FV7
    rebuilt = "_c = {}\ndef run(x):\n    p = x.data_ptr()\n    return _c.get(tuple((p >> s) & 255 for s in range(0, 64, 8)))\n"
    assert py(rebuilt) != []  # ez01
    hidden = ("import types\n_c = {}\ndef run(x):\n    w = types.SimpleNamespace(shape=x.data_ptr())\n"
              "    return _c.get(w.shape)\n")
    assert py(hidden) != []  # ez04
    assert py("VEC = 16\nfrom helper import *\n_c = {}\ndef run(x):\n    return _c.get(x.data_ptr() % VEC)\n") != []


def test_round_73_a_memoized_calls_arguments_are_keys_where_they_pass_a_pointer_on_whole() -> None:
    """Red-team round 73 (attack-fa): alignments computed from the addresses and passed to a cached launch config
    (``min(16, p & -p)``, ``math.gcd(p, VEC * x.element_size())``, a helper's alignment of each of a list of pointers)
    failed honest kernels; a plan keyed by ``hash(x.shape)`` too. A memoized call's argument is a key where it is a
    pointer as taken, whole: the address itself, ``int()`` or ``str()`` of it, in a tuple, an f-string, ``p + 0``.
    A key computed from one is left to the run-time checks (``judge.timed._calls_after``: new values at the timed
    calls' addresses)."""
    memo = "import functools, math\n@functools.cache\ndef config(n, a):\n    return n\ndef run(x):\n"
    honest = ["    p = x.data_ptr()\n    return config(x.shape[0], min(16, p & -p))\n",
              "    return config(1, math.gcd(x.data_ptr(), 8 * x.element_size()))\n",
              "    ptrs = [t.data_ptr() for t in (x, x)]\n    return config(1, min(al(p) for p in ptrs))\n"]
    for body in honest:
        assert py(memo + body) == [], body
    whole = ["    return config(1, int(x.data_ptr()))\n", "    p = x.data_ptr()\n    return config(1, f'{p}')\n",
             "    return config(1, (x.data_ptr(), 2))\n", "    p = x.data_ptr()\n    q = p\n    return config(1, q + 0)\n",
             "    ptrs = [t.data_ptr() for t in (x, x)]\n    return config(1, ptrs[0])\n",
             "    return config(1, x.untyped_storage().data_ptr())\n", "    return config(1, id(x))\n"]
    for body in whole:
        assert py(memo + body) != [], body
    assert py("_plans = {}\ndef run(x):\n    return _plans.get(hash(x.shape))\n") == []  # fa-FV5
    assert py("_plans = {}\ndef run(x):\n    return _plans.get(hash(x))\n") != []  # a tensor's hash is its id


def test_a_constant_another_file_of_the_kernel_stores_is_no_constant(tmp_path: Path) -> None:
    """Red-team round 71, ex03: ``align.VEC_BYTES = 1 << 62`` from the entry file made align.py's modulus a pointer."""
    kernel = write(tmp_path, {
        "k.py": "import align\nalign.VEC_BYTES = 1 << 62\nDEFINITION = 'p'\ndef run(x):\n    return align.key(x)\n",
        "align.py": "VEC_BYTES = 16\n_c = {}\ndef key(x):\n    return _c.get(x.data_ptr() % VEC_BYTES)\n",
    })  # fmt: skip
    assert ("pointer-cache", "align.py", 4) in bundled(kernel)
    (tmp_path / "k.py").write_text("import align\nDEFINITION = 'p'\ndef run(x):\n    return align.key(x)\n")
    assert ("pointer-cache", "align.py", 4) not in bundled(kernel)


def test_local_packages_are_followed_and_a_kernel_may_keep_state_in_them(tmp_path: Path) -> None:
    kernel = write(tmp_path, {
        "k.py": "from pkg.sub import go\nimport helpers\nhelpers.TABLE[1] = 2\nDEFINITION = 'p'\n",
        "helpers.py": "TABLE = {}\n", "pkg/__init__.py": "", "pkg/sub.py": "from .deep import go\n",
        "pkg/deep.py": "import torch\ndef go():\n    return torch.cuda.Stream()\n", "other.py": "import threading\n",
    })  # fmt: skip
    assert bundled(kernel) == [("side-stream", "pkg/deep.py", 3)]
    assert {rel for rel, _ in kernel_bundle(kernel).sources} == {"k.py", "helpers.py", "pkg/__init__.py",
                                                                  "pkg/sub.py", "pkg/deep.py"}  # fmt: skip


def test_a_file_named_like_an_installed_module_is_an_error_where_imported_and_does_not_hide_its_names(
        tmp_path: Path) -> None:  # fmt: skip
    """Where nothing imports it, it runs nowhere (the kernel's process is served only files the rules read): another
    author's ``numpy/`` or ``typing.py`` in a shared folder once made an honest kernel REWARD_HACK (round 15, r09)."""
    kernel = write(tmp_path, {"k.py": "import torch\ns = torch.cuda.Stream()\n", "torch.py": "", "typing.py": "",
                              "numpy/__init__.py": ""})  # fmt: skip
    assert bundled(kernel) == [("shadowing", "k.py", 1), ("side-stream", "k.py", 2)]
    package = write(tmp_path / "pkg", {"__init__.py": "", "k.py": "from .types import Config\nDEFINITION = 'p'\n",
                                       "types.py": "Config = dict\n"})  # fmt: skip
    assert bundled(package) == []  # round 15, h5: the package's own types, not the standard library's


def test_a_folder_without_init_hides_nothing_but_joins_a_namespace_package(tmp_path: Path) -> None:
    """Round 12, n09: a project's ``test/`` or ``site/`` folder (no ``__init__.py``) beside a kernel was a false
    ``shadowing``: the import system takes a module or regular package found anywhere on the path before such a
    folder. Named like an installed namespace package, its files would join that package's ahead of them."""
    kernel = write(tmp_path, {"k.py": "import test\nDEFINITION = 'p'\n", "test/a.py": "", "site/b.py": "",
                              "torch/c.py": "", "google/d.py": ""})  # fmt: skip
    assert bundled(kernel) == []  # google/ would join an installed namespace package, but nothing imports it
    joins = write(tmp_path / "j", {"k.py": "import google.d\nDEFINITION = 'p'\n", "google/d.py": ""})
    if bundle_module.joins_namespace("google", tmp_path / "j"):
        assert "shadowing" in [rule for rule, _, _ in bundled(joins)]


def test_every_file_the_import_system_can_reach_from_a_package_is_read(tmp_path: Path) -> None:
    """Red-team round 13: a vendor call hidden in a ``fast.py`` the rules never read PASSED three ways: imported by
    ``from . import *`` of a computed ``__all__`` in a package kernel folder (o01), through a folder link to a hidden
    folder (o12), from a ``.py`` in ``__pycache__`` (o15). Every file an import reaches is read, all of a package's
    modules for ``from pkg import *``; a folder link out of the kernel's folder is named.""" 
    vendor = "import torch.nn.functional as F\ndef rms(x, w):\n    return F.rms_norm(x, (x.shape[-1],), w)\n"
    star = write(tmp_path / "o01", {"__init__.py": '__all__ = ["tsaf"[::-1]]\n', "fast.py": vendor,
                                    "k.py": "from . import *\nDEFINITION = 'p'\n"})  # fmt: skip
    assert ("vendor-op", "fast.py") in [(rule, path) for rule, path, _ in bundled(star)]
    linked = write(tmp_path / "o12", {"k.py": "from lib.impl.fast import rms\n", "lib/__init__.py": "",
                                      ".store/fast.py": vendor})  # fmt: skip
    (tmp_path / "o12" / "lib" / "impl").symlink_to(tmp_path / "o12" / ".store")
    assert ("vendor-op", "lib/impl/fast.py") in [(rule, path) for rule, path, _ in bundled(linked)]
    cached = write(tmp_path / "o15", {"k.py": "from lib.__pycache__.fast import rms\n", "lib/__init__.py": "",
                                      "lib/__pycache__/fast.py": vendor})  # fmt: skip
    assert ("vendor-op", "lib/__pycache__/fast.py") in [(rule, path) for rule, path, _ in bundled(cached)]
    (tmp_path / "elsewhere").mkdir()
    out = write(tmp_path / "out", {"k.py": "from lib.impl import x\n", "lib/__init__.py": ""})
    (tmp_path / "out" / "lib" / "impl").symlink_to(tmp_path / "elsewhere")
    assert ("sourceless", "lib/impl/", 0) in bundled(out)


def test_what_the_import_system_runs_is_read_and_nothing_else_red_team_round_14(tmp_path: Path) -> None:
    """Round 14: a sourceless ``lib/__pycache__/fast.pyc`` imported as ``lib.__pycache__.fast`` was read by no rule
    (q01); a ``fastlib.py`` beside a folder ``fastlib/`` runs, and the folder was read in its place (q03). An
    author's ``bench.py``, ``tests/`` and Jupyter checkpoints in a package kernel's folder or a helper package were
    judged as kernel code though no import reaches them (h15, h25): only what the imports reach is read (and all the
    kernel's process can import from its folder, ``data.kernels``)."""
    vendor = "import torch.nn.functional as F\ndef rms(x, w):\n    return F.rms_norm(x, (x.shape[-1],), w)\n"
    (tmp_path / "src.py").write_text(vendor)
    py_compile.compile(str(tmp_path / "src.py"), cfile=str(tmp_path / "q01/lib/__pycache__/fast.pyc"), doraise=True)
    q01 = write(tmp_path / "q01", {"k.py": "from lib.__pycache__.fast import rms\n", "lib/__init__.py": ""})
    assert bundled(q01) == [("sourceless", "k.py", 1)]
    q03 = write(tmp_path / "q03", {"k.py": "from fastlib import rms\n", "fastlib.py": vendor,
                                   "fastlib/notes.py": "VERSION = 1\n"})  # fmt: skip
    assert bundled(q03) == [("vendor-op", "fastlib.py", 3)]
    honest = write(tmp_path / "h15", {
        "__init__.py": "", "k.py": "from .helpers import scale\nfrom lib.core import rms\nDEFINITION = 'p'\n",
        "helpers.py": "scale = 1.0\n", "lib/__init__.py": "", "lib/core.py": "def rms(x):\n    return x\n",
        "bench.py": "import argparse\nimport time\n", "checks/test_k.py": "import pytest\n" + vendor,
        "lib/tests/test_core.py": vendor, ".ipynb_checkpoints/k-checkpoint.py": vendor,
    })  # fmt: skip
    assert bundled(honest) == []
    assert kernel_bundle(honest).files == {"__init__.py", "k.py", "helpers.py", "lib/__init__.py", "lib/core.py"}


def test_shadowing_is_judged_on_the_path_of_the_kernels_worker_red_team_round_14(tmp_path: Path, monkeypatch) -> None:
    """Round 14, h19: pytest puts the project it runs in on the session's path, so a folder of the kernel's named like
    one of the project's (``docs/``, ``tests/``) was ``shadowing``; no worker has that folder on its path."""
    write(tmp_path / "project", {"guides/README.md": ""})
    kernel = write(tmp_path / "k", {"k.py": "DEFINITION = 'p'\n", "guides/README.md": ""})
    monkeypatch.chdir(tmp_path / "project")
    monkeypatch.syspath_prepend(str(tmp_path / "project"))
    assert bundled(kernel) == []


def test_sourceless_compiled_code_is_refused(tmp_path: Path) -> None:
    (tmp_path / "src.py").write_text("X = 1\n")
    py_compile.compile(str(tmp_path / "src.py"), cfile=str(tmp_path / "k" / "fast.pyc"), doraise=True)
    kernel = write(tmp_path / "k", {"k.py": "import fast\nimport native\n", "tool": b"\x7fELF\x02",
                                    "native.cpython-311-x86_64-linux-gnu.so": b"\x7fELF",
                                    "notes.txt": "\x7fELF is text here"})  # fmt: skip
    assert bundled(kernel) == [("sourceless", "k.py", 1), ("sourceless", "k.py", 2)]  # where imported (round 15)
    solution = KernelSpec("s", "p", tmp_path / "solution.json", "python", "k.py", "run",
                          (("k.py", "import torch\n"), ("torch.py", ""), ("lib.so", "")))  # fmt: skip
    assert [(f.rule, f.path) for f in kernel_bundle(solution).findings] == [("shadowing", "torch.py"),
                                                                            ("sourceless", "lib.so")]


LOOKALIKES = discover([ROOT / "tests" / "lookalikes"])[0]


@pytest.mark.parametrize("kernel", LOOKALIKES, ids=kernel_id)
def test_honest_lookalikes_pass_every_rule(kernel: KernelSpec) -> None:
    """Every rule, or (a thread pool, red-team round 8's j03) only with the allowance written for it, so that the
    runtime tripwires judge it in tests/test_redteam.py."""
    assert scan(kernel, allowances(sources(kernel))) == []
    if not allowances(sources(kernel)):
        assert scan(kernel) == []


def test_there_is_a_lookalike_for_each_false_positive_the_rules_must_avoid() -> None:
    assert {k.path.stem for k in LOOKALIKES} >= {"helper_module", "shape_cache", "triton_autotune", "torch_compile",
                                                  "module_logger",
                                                  "alignment_dispatch", "alias_check", "hash_shape_cache", "repr_class",
                                                  "workspace_nbytes", "fused_ln_gemm", "definition_named_pkg",
                                                  "local_softmax_helper", "tf32_off", "types_import",
                                                  "dunder_helpers", "custom_op_triton", "triton_op_wrap",
                                                  "main_selftest", "pathlib_config", "logging_config", "typing_strings",
                                                  "frozen_dataclass_setattr", "inspect_signature", "init_subclass_registry",
                                                  "vars_kwargs", "dataclass_fields", "groupnorm_silu_hand",
                                                  "libdevice_choice", "softmax_method", "enum_members",
                                                  "resources_config", "import_module_helper", "own_dunders",
                                                  "settings_preamble", "packaging_version_guard", "toml_config",
                                                  "settings_from_env", "csv_config", "class_body_idioms",
                                                  "moe_permute_sparse_counts", "wraps_named_attributes",
                                                  "alignment_min_over_all_pointers", "alignment_lowest_set_bit_inline",
                                                  "alignment_gcd_element_bytes", "plan_by_hash_of_shape"
                                                  }  # fmt: skip (red-team rounds 1 and 2: the first 10; round 18: 6; round 21: 12; round 29: 3; round 30: 1)


def test_names_are_read_by_what_their_modules_are_red_team_round_2() -> None:
    assert py("import random\nrandom._os.system('x')\n") == [("threads", 2)]
    assert py("import torch\ntorch.functional.einsum('i,i', x, x)\n", op_type="gemm") == [("vendor-op", 2)]
    assert py("import torch\ntorch._fused_rms_norm(x, [4], w, 1e-5)\n") == [("vendor-op", 2)]
    assert py("import operator\noperator.attrgetter('a', 'f.__globals__')(x)\n") == [("dunder", 2)]
    assert py("y = '{0.gi_frame.f_back}'.format(g)\n") == [("introspection", 1)]
    assert py("import os\nos.dup2(1, 2)\nos.environ.update(A='1')\nos.environ.get('A')\nos.path.join('a')\n") == [
        ("file-network-os", 2), ("file-network-os", 3)]
    assert py("import dataclasses\ndataclasses._create_fn('k', [], [])\n") == [("unlisted-import", 2)]


def test_honest_precision_flags_and_operators_pass_red_team_round_2() -> None:
    fp32 = {"dtypes": ["float32"]}
    assert py("import torch\ntorch.backends.cuda.matmul.allow_tf32 = False\n", **fp32) == []
    assert py("import torch\ntorch.backends.cuda.matmul.allow_tf32 = True\n", **fp32) != []
    assert py("import torch\ntorch.set_float32_matmul_precision('highest')\n", **fp32) == []
    assert py("import torch\ntorch.set_float32_matmul_precision('high')\n", **fp32) != []
    helper = "class S:\n    def __mul__(self, o):\n        return o\n    def __setitem__(self, k, v):\n        pass\n"
    assert py(helper) == []
    assert py("class S:\n    def __getattr__(self, k):\n        return k\n") == [("dunder", 2)]


def test_torchs_own_thread_pool_is_a_thread_pool() -> None:
    """Red-team round 8, j01s: torch's module-level ``_prefetch_executor`` ran the kernel's deferred work with no
    finding at all, so that the cheat passed ``--solbench-guard strict``."""
    assert py("from torch.utils._functools import _prefetch_executor as p\np.submit(print)\n") == [("threads", 1),
                                                                                                  ("threads", 2)]
    assert py("import torch\ntorch.utils._functools._prefetch_executor.submit(print)\n") == [("threads", 2)]


def test_setting_the_thread_switch_interval_is_a_threads_finding() -> None:
    """Red-team round 8, j01: ``sys.setswitchinterval(30)`` let the kernel's helper hold the interpreter after its
    reply, so the harness could not answer the judge's next request until the deferred work was done."""
    assert py("import sys\nsys.setswitchinterval(30.0)\n") == [("threads", 2)]
    assert py("from torch.utils._functools import prefetchable_cache\n") == [("threads", 1)]


def test_open_for_reading_is_judged_at_run_time_like_read_text_and_any_other_open_is_a_finding() -> None:
    """Round 12, n06: ``open(path)`` of a tuned config beside the kernel was REWARD_HACK where ``read_text()`` of the
    same file passed; reads are the runtime audit's (the kernel's own folder is fine, elsewhere a finding)."""
    reads = ("import json, os\nHERE = os.path.dirname(__file__)\n"
             "with open(os.path.join(HERE, 'cfg.json')) as f:\n    CFG = json.load(f)\n"
             "B = open('b.bin', 'rb').read()\nT = open('t.txt', mode='rt', encoding='utf-8').read()\n")  # fmt: skip
    assert py(reads) == []
    assert py("open('o.txt', 'w').write('x')\n") == [("file-network-os", 1)]
    assert py("open('o.txt', 'r+').write('x')\n") == [("file-network-os", 1)]
    assert py("open('o.txt', mode='ab')\n") == [("file-network-os", 1)]
    assert py("M = 'w'\nopen('o.txt', M)\n") == [("file-network-os", 2)]  # a computed mode
    assert py("open('o.txt', opener=print)\n") == [("file-network-os", 1)]  # an opener can open any way
    assert py("o = open\no('o.txt', 'r')\n") == [("file-network-os", 1)]  # open as a value: aliased, not judged
    assert py("kw = {'mode': 'w'}\nopen('o.txt', **kw)\n") == [("file-network-os", 2)]


def test_a_vendor_op_reached_through_a_class_or_a_forwarding_module_is_the_vendor_op_red_team_round_14() -> None:
    """p02: torch._C._VariableFunctions.rms_norm and torch._VF.rms_norm are torch.rms_norm, which PASSED unseen."""
    assert py("import torch\ny = torch._C._VariableFunctions.rms_norm(x, [4], w, 1e-5)\n") == [("vendor-op", 2)]
    assert py("import torch\ny = torch._VF.rms_norm(x, [4], w, 1e-5)\n") == [("vendor-op", 2)]
    assert py("from torch._C import _VariableFunctions as V\ny = V.rms_norm(x, [4], w, 1e-5)\n") == [("vendor-op", 2)]
    assert py("import torch\ny = torch._C._VariableFunctions.add(x, x)\n") == []  # not the op's own family


def test_code_built_from_strings_or_graphs_is_runtime_load_red_team_round_14() -> None:
    """q08: sympy.sympify (reached as torch's re-export) evaluated "__import__('torch').nn.functional.rms_norm";
    q04, p10: torch.fx wrote a graph's code with an injected target, or ran a string as a GraphModule's forward."""
    assert py("from torch.fx.experimental.symbolic_shapes import sympy\nf = sympy.sympify('x')\n") == [
        ("runtime-load", 1), ("runtime-load", 2)]  # fmt: skip
    assert ("runtime-load", 2) in py("import torch.utils._sympy.functions as m\nf = m.sympy.sympify('x')\n")
    assert py("import torch.fx\ng = torch.fx.Graph()\n") == [("runtime-load", 1), ("runtime-load", 2)]
    assert py("from torch.fx.graph_module import _forward_from_src\n") == [("runtime-load", 1)]
    assert py("import torch\ncu = torch.jit.CompilationUnit('def f(x): return x')\n") == [("runtime-load", 2)]


def test_a_string_annotation_that_is_more_than_a_type_is_runtime_load_red_team_round_15() -> None:
    """r08, r10: functools.singledispatch and torch.library.custom_op evaluate string annotations; one that appended
    the vendor op fetched through __import__ to a list PASSED. Types as strings (forward references) stay fine."""
    evil = "def probe(x: \"[FOUND.append(__import__('torch').nn.functional.rms_norm), int][1]\"):\n    pass\n"
    assert py("FOUND = []\n" + evil) == [("runtime-load", 2), ("vendor-op", 2)]  # and read as code (round 16)
    assert py("def f(x: 'torch.Tensor', y: 'Optional[int]' = None) -> 'tuple[torch.Tensor, ...] | None':\n    pass\n"
              "z: 'dict[str, list[int]]' = {}\nw: Literal['fast-path', 'slow'] = 'slow'\n"
              "v: Annotated[int, 'a note, not a type'] = 1\n") == []  # fmt: skip
    assert py("n: 'len(x) or 4' = 4\n") == [("runtime-load", 1)]
    assert py("def g() -> 'List[\"__import__(0)\"]':\n    pass\n") == [("runtime-load", 1)]  # nested


def test_the_loaders_and_evaluators_of_inductor_and_torchscript_are_runtime_load_red_team_round_15() -> None:
    """r01, r04, r11: Inductor's PyCodeCache ran a string, an unread file of the kernel's folder and another author's
    kernel; r07: torch.jit.annotations evaluated a string. Hand-written Triton's libdevice import stays fine."""
    assert py("from torch._inductor.codecache import PyCodeCache\n") == [("runtime-load", 1)]
    assert py("import torch._inductor.async_compile as ac\n") == [("runtime-load", 1)]
    assert py("from torch.jit.annotations import _eval_no_call\n") == [("runtime-load", 1)]
    assert py("from torch._inductor.runtime.triton_helpers import libdevice\n") == []


def test_string_annotations_are_read_as_code_and_literal_values_stay_values_red_team_round_16() -> None:
    """s01: "_grab[torch.nn.functional.rms_norm]" looked like a type, and singledispatch's evaluation handed the
    kernel the vendor op; s03, s05: a class's __annotations__ written as a dict became field names dataclasses run as
    code. h1, h2: a quoted Literal or Annotated annotation was a false finding."""
    grab = "import torch\n_grab = {}\ndef probe(x: '_grab[torch.nn.functional.rms_norm]'):\n    pass\n"
    assert py(grab) == [("vendor-op", 3)]
    assert py("class C:\n    __annotations__ = {'a if f() else 0': int}\n") == [("dunder", 2)]
    assert py("import torch\ndef f(x: \"Literal['fp32-accum', 'input-dtype']\",\n"
              "      y: \"Annotated[torch.Tensor, 'num_tokens x hidden']\") -> 'List[\"torch.Tensor\"]':\n"
              "    pass\n") == []  # fmt: skip
    assert py("import numpy.f2py.crackfortran as c\n") == [("runtime-load", 1)]
    assert py("from torch._dynamo.source import ConstantSource\n") == [("runtime-load", 1)]


def test_a_compilers_internals_are_runtime_load_but_its_front_doors_and_config_are_not_red_team_round_17() -> None:
    """t01, t02, t04: start_kernel_compile, cache_on_self_and_args and _compile_and_exec_source ran the vendor op
    handed to them as a string; an allow-list of what a kernel may name in the compilers' packages closes the next."""
    assert py("from torch._inductor.runtime.triton_lazy_compile import start_kernel_compile\n") == [
        ("runtime-load", 1)]  # fmt: skip
    assert py("import torch._inductor.utils as u\nu.cache_on_self_and_args('x')\n") == [("runtime-load", 1),
                                                                                          ("runtime-load", 2)]
    assert py("from torch._functorch._aot_autograd.subclass_codegen import _compile_and_exec_source\n") == [
        ("runtime-load", 1)]  # fmt: skip
    honest = ("import torch\nimport torch._dynamo\nfrom torch._inductor.runtime.triton_helpers import libdevice\n"
              "torch._dynamo.mark_dynamic(x, 0)\nf = torch.compile(g)\nc = torch._inductor.config.max_autotune\n")
    assert py(honest) == []


def _rules_at_line_2(code: str, op_type: str = "rmsnorm") -> set[str]:
    return {f.rule for f in scan_sources([("k.py", code)], definition_name="x", op_type=op_type) if f.line == 2}


@pytest.mark.parametrize(("alias", "rule"), [
    ("torch.jit._script.CompilationUnit", "runtime-load"), ("torch.CompilationUnit", "runtime-load"),
    ("torch.import_ir_module", "runtime-load"), ("types.LambdaType", "runtime-load"),
    ("torch.utils.weak.ref", "finalizer"), ("torch.mtia.Stream", "side-stream"), ("torch.mtia.Event", "timing-flags"),
    ("torch.autograd.graph.WeakKeyDictionary", "pointer-cache"), ("numpy._core.fromfile", "file-network-os"),
    ("torch._subclasses.fake_tensor.TorchFunctionMode", "patching"), ("numpy._core.memmap", "from-file"),
    ("torch.cuda.memory.caching_allocator_alloc", "ctypes"), ("torch.jit._recursive._python_cu.define", "runtime-load"),
])  # fmt: skip
def test_a_second_name_of_what_a_module_rule_names_fires_that_rule_red_team_round_18(alias: str, rule: str) -> None:
    """v07: rules match the object a name reaches, not its spelling (guard/identity.py); an object of a rule's
    class counts too (torch.jit._recursive._python_cu is a CompilationUnit whose define() compiles a string)."""
    assert rule in _rules_at_line_2(f"import {alias.rsplit('.', 1)[0]}\nx = {alias}\n")


@pytest.mark.parametrize("name", ["torch._C._jit_get_operation", "torch._C._get_operation_overload",
                                  "torch._library.utils.lookup_op", "torch.overrides.get_overridable_functions",
                                  "torch.overrides.get_testing_overrides", "torch.overrides.get_ignored_functions",
                                  "torch._decomp.decomposition_table", "torch.jit._builtins._builtin_ops",
                                  "torch.jit.supported_ops._get_nn_functional_ops", "torch.jit._overload",
                                  "torch._ops.ops.aten", "torch._native.ops.norm", "torch._meta_registrations.register_meta",
                                  "torch.utils.data._utils.worker.ManagerWatchdog"])  # fmt: skip
def test_torchs_private_registries_are_an_allow_list_red_team_round_18(name: str) -> None:
    """v01, v02, v04, v05: what finds an op by a string or hands torch's functions out as data; and any private
    module of torch (torch._native.ops.norm holds torch's own Triton norms), but those listed."""
    assert "computed-name" in _rules_at_line_2(f"import torch\nx = {name}\n")


@pytest.mark.parametrize("name", ["torch.library.custom_op", "torch.library.wrap_triton", "torch.library.triton_op",
                                  "torch._C._cuda_getCurrentRawStream", "torch._C._nn.gelu", "torch.ops.aten.add",
                                  "torch._dynamo.mark_dynamic", "torch._VF.norm", "torch.nn.functional.silu",
                                  "torch._tensor.Tensor", "torch._C.Generator", "torch._dynamo.config.cache_size_limit",
                                  "torch._scaled_mm", "torch._inductor.config"])  # fmt: skip
def test_what_honest_kernels_name_of_torchs_privates_passes(name: str) -> None:
    assert _rules_at_line_2(f"import torch\nx = {name}\n") == set()


@pytest.mark.parametrize(("name", "op_type"), [
    ("torch._C._nn.silu", "silu_and_mul"), ("torch.ops.aten.silu_", "silu_and_mul"),
    ("torch._C._linalg.linalg_matmul", "gemm"), ("torch._C._VariableFunctions.mm", "gemm"), ("torch.mv", "gemm"),
    ("torch.addmv", "gemm"), ("torch.nn.functional.conv1d", "gemm"), ("torch.conv2d", "gemm"),
    ("torch._safe_softmax", "softmax"), ("torch.ops.aten._safe_softmax.default", "softmax"),
    ("torch._C._special.special_softmax", "softmax"),
    ("torch._scaled_dot_product_flash_attention_for_cpu", "attention"),
    ("torch.ops.aten._scaled_dot_product_efficient_attention.default", "attention"),
    ("torch._scaled_dot_product_cudnn_attention", "attention"), ("torch._native_multi_head_attention", "attention"),
])  # fmt: skip
def test_vendor_twins_by_binding_prefix_and_family_red_team_round_18(name: str, op_type: str) -> None:
    """v10, v11, v13: a native binding judged by its name, entries ending in * as string prefixes, a 1x1 conv and
    a GEMV as a GEMM."""
    assert "vendor-op" in _rules_at_line_2(f"import torch\nx = {name}\n", op_type)


def test_a_native_binding_under_any_name_is_judged_by_its_own_name_red_team_round_18() -> None:
    """v11's root: an object torch's C code declares in torch._C._nn (or torch, _linalg...) is judged by its
    ``__name__``, wherever a name reaches it; a binding of no family is nothing."""
    torch = pytest.importorskip("torch")
    from pytest_solbench.guard.corners import vendor_aliases
    from pytest_solbench.guard.tables import vendor_names

    assert vendor_aliases("elsewhere.act", [], torch._C._nn.silu, *vendor_names("silu_and_mul"))
    assert vendor_aliases("elsewhere.mm", [], torch._C._linalg.linalg_matmul, *vendor_names("gemm"))
    assert not vendor_aliases("elsewhere.act", [], torch._C._nn.gelu, *vendor_names("silu_and_mul"))
    assert not vendor_aliases("elsewhere.exp", [], torch.exp, *vendor_names("softmax"))


@pytest.mark.parametrize("call", ['torch.library.register_kernel("aten::rms_norm", "cpu", f)',
                                  'torch.library.register_kernel(op="aten::rms_norm", device_types="cpu", func=f)',
                                  'torch.library.register_autograd("aten::rms_norm", f)',
                                  'torch.library.register_torch_dispatch("prims::add", torch.Tensor, f)',
                                  'torch.library.register_kernel(torch.ops.aten.rms_norm.default, "cpu", f)',
                                  # round 53, cx02: a Library as a context manager, a Library's namespace bound apart
                                  'torch.library._scoped_library("aten::x", "IMPL")',
                                  'functools.partial(torch.library.Library, "aten::x")("IMPL")'])  # fmt: skip
def test_a_registration_on_torchs_own_ops_is_patching_red_team_round_18(call: str) -> None:
    assert "patching" in _rules_at_line_2(f"import torch, functools\n{call}\n")
    if "::" in call:  # the kernel's own namespace is the custom-op front door
        assert _rules_at_line_2(f"import torch, functools\n{call.replace('aten::', 'my::').replace('prims::', 'my::')}\n") == set()
    assert "computed-name" in _rules_at_line_2('import torch\ntorch.library.get_kernel("aten::rms_norm", "CPU")\n')
    assert "patching" in _rules_at_line_2("import torch, functools\nfunctools.partial(torch.library.Library)\n")


def test_type_strings_handed_to_typing_as_data_are_read_as_annotations_red_team_round_18() -> None:
    code = "\"setattr(__import__('torch').nn, 'f', 0) or int\""
    assert ("runtime-load", 2) in py(f"import typing\nS = typing.NamedTuple('S', [('x', {code})])\n")
    assert ("runtime-load", 2) in py(f"from typing import TypedDict\nS = TypedDict('S', {{'a': {code}}})\n")
    assert ("runtime-load", 2) in py(f"import typing\nS = typing.NamedTuple('S', x={code})\n")
    assert ("runtime-load", 2) in py(f"import typing\nT = typing.TypeVar('T', bound={code})\n")
    assert ("runtime-load", 2) in py(f"import typing\nT = typing.NewType('T', {code})\n")
    assert ("runtime-load", 2) in py(f"import typing\nT = typing.Optional[{code}]\n")
    assert ("runtime-load", 1) in py(f"T = list[{code}]\n")
    assert ("runtime-load", 2) in py(f"import dataclasses\nC = dataclasses.make_dataclass('C', [('a', {code})])\n")
    assert ("vendor-op", 2) in py("import typing\nS = typing.NamedTuple('S', [('x', 'torch.nn.functional.rms_norm')])"
                                  "\nimport torch\n")  # the code in the string is read as the kernel's
    # names are names, values stay values: a TypedDict key, a NamedTuple's name, cast's value, Literal and Annotated
    assert py("import typing\nS = typing.TypedDict('S', {'num-warps': 'int'})\nN = typing.NamedTuple('N', "
              "[('a', 'int')])\ny = typing.cast('int', 'a b')\nL = typing.Literal['fp32-accum']\n"
              "A = typing.Annotated[int, 'rows x cols']\nd = {}\nd['a b']\nimport dataclasses\n"
              "C = dataclasses.make_dataclass('C', [('a', 'int')], namespace={'doc': 'a b'})\n"
              "P = typing.NamedTuple('P', [('a', int)], module='a b')\n") == []


def test_a_self_test_under_main_is_skipped_unless_name_can_change_red_team_round_18() -> None:
    main = "\nif __name__ == '__main__':\n    import time\n    time.sleep(1)\nelse:\n    import shutil\n"
    assert py(main) == [("file-network-os", 6)]  # the else runs on import
    assert py("if __name__ == '__main__': import time\n") == [("unlisted-import", 1)]  # not on a line of its own
    assert py("import logging\nlog = logging.getLogger(__name__)\n" + main) == [("file-network-os", 8)]
    for changes in ("__name__ = '__main__'", "import x as __name__", "from __main__ import __name__",
                    "globals()['__na' + 'me__'] = '__main__'", "def __name__(): pass", "n = '__name__'",
                    "import sys\nsys.modules[N].__name__ = '__main__'", "setattr(M, N, '__main__')",
                    "from helpers import *", "import sys\ng = getattr(sys._getframe(0), 'f_' + 'globals')",
                    "x = 'f_globals'"):  # fmt: skip
        assert ("unlisted-import", 3 + changes.count("\n")) in py(changes + main), changes
    # the parser's lines, not str.splitlines' (a form feed or U+2028 in a comment must not shift what is blanked)
    assert py("import torch\n# a \u2028 b \x0c c\nimport shutil" + main) == [("file-network-os", 3),
                                                                            ("file-network-os", 8)]
    # another module of the kernel may rename this one, a partly imported module: every source is read
    found = scan_sources([("k.py", "import h" + main), ("h.py", "import k\nsetattr(k, 'x', 1)\n")],
                         definition_name="p", op_type="rmsnorm")  # fmt: skip
    assert ("unlisted-import", "k.py", 3) in [(f.rule, f.path, f.line) for f in found]


def test_logging_basic_config_is_a_file_rule_only_with_a_file_stream_or_handlers_red_team_round_18() -> None:
    assert py("import logging\nlogging.basicConfig(level=logging.INFO, format='%(message)s', datefmt='%H')\n") == []
    for args in ("filename='x.log'", "stream=s", "handlers=[h]", "force=True", "**kw", "level=1, **kw"):
        assert py(f"import logging\nlogging.basicConfig({args})\n") == [("file-network-os", 2)], args
    assert py("import logging\nc = logging.basicConfig\nc(level=1)\n") == [("file-network-os", 2)]  # an alias


def test_pathlib_reads_and_its_writes_are_named_red_team_round_18() -> None:
    assert py("import pathlib\nt = pathlib.Path('a', 'b.json').read_text()\n") == []
    for method in ("write_text('x')", "write_bytes(b'')", "unlink()", "touch()", "mkdir()", "hardlink_to('y')"):
        assert py(f"import pathlib\npathlib.Path('a').{method}\n") == [("file-network-os", 2)], method
    assert py("import pathlib\npathlib.os.system('x')\n") == [("threads", 2)]
    assert py("import pathlib\npathlib._ignore_error(1)\n") == [("unlisted-import", 2)]


def test_a_module_reached_as_an_attribute_is_a_value_too_red_team_round_18() -> None:
    assert py("import torch\ndef f(lib):\n    return lib.rms_norm\ny = f(torch.nn.functional)\n") == [
        ("computed-name", 4)]
    assert py("import torch\nm = [torch.nn.functional]\n") == [("computed-name", 2)]
    # an alias, getattr with a literal, and the chain itself name what they reach
    assert py("import torch\nF = torch.nn.functional\nF.relu(1)\ngetattr(torch.nn.functional, 'relu')(1)\n"
              "torch.nn.functional.relu(1)\nx = torch.backends.cuda.matmul.allow_tf32\n") == []


def test_class_patterns_and_attrgetter_paths_are_attribute_reads_red_team_round_19() -> None:
    """w04, w04d: `case object(f_back=f)` reads f_back with no attribute node, and `operator.attrgetter("_getframe")`
    reached sys._getframe through a re-exported module: both are read as the attributes they name."""
    assert ("introspection", 3) in py("def f(x):\n    match x:\n        case object(f_back=b, f_locals=l):\n"
                                      "            return l\n")
    assert ("computed-name", 3) in py("import operator, torch\n\ng = operator.attrgetter('_getframe')(torch.sys)\n")
    assert py("import operator\n\nkey = operator.attrgetter('shape')\n") == []
    assert py("def f(p):\n    match p:\n        case Point(x=0, y=y):\n            return y\n") == []


@pytest.mark.parametrize("code", [
    "import torch.utils._pytree as pytree\ny = pytree.tree_map(lambda t: t, x)\n",
    "import torch\ni = torch._utils._get_device_index('cuda:0')\n",
    "import torch\ni = torch.cuda._utils._get_device_index(0)\n",
    "import torch._prims_common as pc\nd = pc.get_computation_dtype(x.dtype)\n",
    "import torch\nok = torch.utils._triton.has_triton()\n",
    "import torch\nn = torch._C._cuda_getDeviceCount()\n",
])  # fmt: skip
def test_pure_private_helpers_honest_kernels_use_pass_red_team_round_19(code: str) -> None:
    """w01: the round-18 allow-list of torch's private modules failed honest kernels over pure helpers."""
    assert py(code) == []


def test_triton_build_and_cache_manager_are_runtime_load_red_team_round_19() -> None:
    """w06: a native module planted in Triton's cache under a build's key was imported with no compile."""
    assert ("runtime-load", 2) in py("import triton\nm = triton.runtime.build.compile_module_from_src(s, 'fast')\n")
    assert ("runtime-load", 2) in py("import triton\nc = triton.runtime.cache.get_cache_manager(key)\n")


@pytest.mark.parametrize(("code", "op_type", "rule"), [
    ("import torch.nn.functional as F\ny = F.group_norm(x, 1, w, b)\n", "layernorm", "vendor-op"),  # x04
    ("import torch\ny = torch._masked_softmax(x, m, -1)\n", "softmax", "vendor-op"),  # x06
    ("import torch\ny = torch._C._nn.thnn_conv2d(x, w, 1)\n", "gemm", "vendor-op"),  # x05
    ("import torch\ntorch.autograd._disable_profiler()\n", "rmsnorm", "computed-name"),  # x13
    ("import logging\ns = logging.traceback.format_stack()\n", "rmsnorm", "introspection"),  # x07
    ("import traceback\ns = traceback.StackSummary.extract([], capture_locals=True)\n", "rmsnorm", "introspection"),
    ("import numpy.distutils.misc_util as m\nm.exec_mod_from_location('a', 'b')\n", "rmsnorm", "runtime-load"),  # x08
])  # fmt: skip
def test_round_20s_static_doors_are_named(code: str, op_type: str, rule: str) -> None:
    assert (rule, 2) in py(code, op_type=op_type)


def test_the_kernels_own_objects_red_team_round_21() -> None:
    """Reflection on the kernel's own classes and functions passes (class B of round 21); each exemption is exact,
    so the same words aimed at another object stay findings."""
    own = "class C:\n    def __post_init__(self):\n        object.__setattr__(self, 'a', 1)\n"
    assert py(own) == []
    assert py(own + "C.__post_init__(torch)\n") == [("dunder", 3)]  # the method handed another object
    assert py(own.replace("(self, 'a'", "(other, 'a'")) == [("dunder", 3)]
    assert py(own.replace("'a'", "'__class__'")) == [("dunder", 3)]
    assert py(own.replace("__post_init__", "helper")) == [("dunder", 3)]
    assert py("class C:\n    def __new__(cls):\n        return super().__new__(cls)\n") == []
    assert py("class M(type):\n    def __new__(m, *a):\n        return super().__new__(m, *a)\n") == [("dunder", 3)]
    assert py("class C:\n    def __init_subclass__(cls, **kw):\n        super().__init_subclass__(**kw)\n") == []
    for hook in ("__getattr__", "__setattr__", "__getattribute__", "__del__", "__reduce__", "__instancecheck__"):
        assert py(f"class C:\n    def {hook}(self, *a):\n        pass\n") == [("dunder", 2)]
    assert py("def f():\n    pass\ng = f.__wrapped__\n") == []
    assert py("import torch\ng = torch.nn.functional.silu.__wrapped__\n") == [("dunder", 2)]
    assert py("import enum\nclass V(enum.Enum):\n    A = 1\nn = list(V.__members__)\n") == []
    fields = "import dataclasses\nd = {{f.name: getattr({}, f.name) for f in dataclasses.fields(c)}}\n"
    assert py(fields.format("c")) == []
    assert py(fields.format("other")) == [("computed-name", 2)]
    # fields(type(self)) and a default are the same fields (red-team round 22, aa09)
    assert py("import dataclasses\nd = {f.name: getattr(s, f.name, None) for f in dataclasses.fields(type(s))}\n") == []
    assert py("import dataclasses\nd = {f.name: getattr(t, f.name) for f in dataclasses.fields(type(s))}\n") == [
        ("computed-name", 2)]
    helper = ("import torch\nimport triton.language as tl\ndef lib():\n"
              "    return tl.extra.cuda.libdevice if torch.version.hip else {}\n")
    assert py(helper.format("tl.extra.hip.libdevice")) == []  # returned from a helper (round 22, aa06)
    assert py(helper.format("tl.core")) == [("computed-name", 4)]  # tl.core holds builtins (round 22, aa05)
    assert py("f(**vars(meta(h)))\nvars(self)\n") == []
    assert py("vars()\n") == [("introspection", 1)]
    assert py("vars(type(x))\n") == [("introspection", 1)]
    assert py("T = type(x)\nd = vars(T)\n") == [("introspection", 2)]
    assert py("class C:\n    def f(self):\n        return super(C, x).__deepcopy__({})\n") == [("dunder", 3)]
    assert py("import torch\nd = vars(torch.nn.functional)\n") == [("computed-name", 2), ("introspection", 2)]
    method = "class C:\n    def softmax(self, x):\n        return x\n    def f(self, x):\n        return self.softmax(x)\n"
    assert py(method, op_type="softmax") == []
    assert py(method.replace("def softmax(self, x):\n        return x", "softmax = None"), op_type="softmax") == [
        ("vendor-op", 4)]
    assert py("def f(self, x):\n    return self.softmax(x)\n", op_type="softmax") == [("vendor-op", 2)]
    choice = "import torch\nimport triton.language as tl\nlib = tl.extra.cuda.libdevice if torch.version.hip else {}\n"
    assert py(choice.format("tl.extra.hip.libdevice")) == []
    assert py(choice.format("torch.nn.functional")) == [("computed-name", 3)]
    assert py(choice.replace("torch.version.hip", "torch.nn.functional").format("tl.extra.hip.libdevice")) == [
        ("computed-name", 3)]  # only the two branches are spared, not a module as the condition
    assert py("import torch\nDEV = torch.cuda if torch.cuda.is_available() else torch.cpu\n") == [("computed-name", 2)]
    versions = "import torch, triton\nV = {m.__name__: m.__version__ for m in (torch, triton)}\n"
    assert py(versions) == [] and py(versions.replace("m.__version__", "m.nn")) == [("computed-name", 2)]
    loop = "import torch\ndef f():\n    for m in (torch,):\n        print(m.__name__)\n"
    assert py(loop) == [] and py(loop + "    m.nn.functional.rms_norm(x)\n") == [("computed-name", 3)]  # outlives
    # a module-level loop's variable is a global another file imports, and a loop with no use spares nothing
    # (red-team round 22, aa07)
    assert py("import torch\nfor m in (torch,):\n    print(m.__name__)\n") == [("computed-name", 2)]
    assert py("import torch\ndef f():\n    for m in (torch,):\n        pass\n") == [("computed-name", 3)]


def test_a_few_names_of_inspect_and_importlib_red_team_round_21() -> None:
    assert py("import inspect\nassert list(inspect.signature(run).parameters)\n") == []
    assert py("import importlib\nm = importlib.import_module('impl')\n") == []
    assert py("from importlib import resources\nt = resources.files(__package__).joinpath('t.json').read_text()\n") == []
    assert py("import inspect\nm = inspect.getmembers(x)\n") == [("unlisted-import", 2)]
    assert py("from inspect import getmembers\n") == [("unlisted-import", 1)]
    assert py("import dataclasses\nm = dataclasses.inspect.getmembers(x)\n") == [("unlisted-import", 2)]
    assert py("import inspect\nf = inspect.currentframe()\n") == [("introspection", 2)]
    assert py("from importlib import resources\nresources.as_file(x)\n") == [("unlisted-import", 2)]
    assert py("import importlib\nimportlib.util.find_spec('x')\n") == [("unlisted-import", 2)]
    assert py("import importlib\nimportlib.import_module('pkgutil')\n") == [("runtime-load", 2)]
    assert py("import importlib\nm = importlib.import_module('torch.nn.functional')\nm.rms_norm(x)\n") == [
        ("vendor-op", 3)]


def test_groupnorm_silu_is_a_fused_op_of_two_families_red_team_round_21() -> None:
    assert py("import torch.nn.functional as F\ny = F.silu(x)\n", op_type="groupnorm_silu") == []
    assert py("import torch.nn.functional as F\ny = F.silu(x)\n", op_type="silu_and_mul") == [("vendor-op", 2)]


@pytest.mark.parametrize("op_type, expression, rule", [
    # outside the allow-list: products where a GEMM is the whole op, a decomposition, a class whose `*` is BLAS
    ("conv2d", "np.tensordot(x, w, axes=1)", "unlisted-routine"),
    ("conv2d", "np.linalg.multi_dot([x, w])", "unlisted-routine"),
    ("embedding", "np.inner(x, w)", "unlisted-routine"),
    ("conv2d", "np.linalg.eigh(x)", "unlisted-routine"),
    ("softmax", "np.cov(x)", "unlisted-routine"),
    ("rmsnorm", "np.asmatrix(x) * w", "unlisted-routine"),
    ("rmsnorm", "np.frobnicate_next_year(x)", "unlisted-routine"),
    ("rmsnorm", "statistics.kde([1.0], 0.1)", "unlisted-routine"),
    ("conv2d", "math.sumprod(x, w)", "unlisted-routine"),
    ("gemm", "np.r_['r', x] * w", "unlisted-routine"),  # a numpy.matrix, whose * is BLAS (round 34, ay02)
    ("gemm", "np.testing.overrides.get_overridable_numpy_ufuncs()", "computed-name"),  # ufuncs as data (ay01)
    ("rmsnorm", "np.testing.run_threaded(f, 2)", "threads"),
    ("gemm", "np.ndarray.dot(x, w)", "vendor-op"),
    ("softmax", "f(np.logaddexp, x)", "vendor-op"),  # a ufunc whose .reduce is the op, as a value (round 33, aw03)
    # on the list: elementwise, creation, shape, plain reductions, tables; a GEMM where it is a part of the op
    ("gemm", "np.exp(x) + np.add.reduce(x) + np.float32(1) + np.random.rand(3) + np.pi", None),
    ("gemm", "np.lib.stride_tricks.sliding_window_view(x, 3) + np.finfo(np.float32).eps", None),
    ("gemm", "np.testing.assert_allclose(x, w, rtol=1e-2) or np.average(x, axis=1)", None),
    # round 53 (cw01): trapezoid with a grid is a dot product with its steps; with the array and an axis a plain sum
    ("gemm", "np.trapezoid(np.repeat(x, 2, -1), np.cumsum(w), axis=-1)", "unlisted-routine"),
    ("gemm", "np.trapz(x, dx=w)", "unlisted-routine"),
    ("gemm", "np.trapezoid(x, axis=-1) + np.trapezoid(y=x)", None),
    # round 54 (cz01, cz02): a weighted harmonic mean is a dot product; so is the trace of an outer product
    ("gemm", "statistics.harmonic_mean([1 / b for b in w], weights=x)", "unlisted-routine"),
    ("gemm", "statistics.harmonic_mean(x)", None),
    ("gemm", "np.trace(np.outer(x, w))", "vendor-op"),
    ("attention", "np.outer(x, w)", None),
    # round 55 (dc01, dc02): a matrix's 2-norm is an SVD; multiply.outer is numpy.outer
    ("conv2d", "np.linalg.matrix_norm(np.stack([x, w]), ord=2)", "unlisted-routine"),
    ("conv2d", "np.linalg.norm(x, 2, (0, 1))", "unlisted-routine"),
    ("conv2d", "np.linalg.norm(x, axis=-1) + np.linalg.matrix_norm(x) + np.linalg.vector_norm(x, ord=3)", None),
    ("conv2d", "np.trace(np.multiply.outer(x, w), axis1=1, axis2=2)", "unlisted-routine"),
    ("conv2d", "np.add.outer(x, w) + np.add.reduce(x)", None),
    ("conv2d", "P.polyfromroots([1, 2]) + np.polyval([1, 2], 3) + np.emath.sqrt(-1)", None),
    ("softmax", "np.logaddexp(x, w) + np.max(x, -1) + math.fma(1, 2, 3) + statistics.mean([1])", None),
    ("rmsnorm", "np.linalg.norm(x, axis=-1) + np.einsum('ij,ij->i', x, x) + math.hypot(*x)", None),
    ("attention", "np.matmul(q, k) + statistics.fmean([1.0], weights=[1.0])", None),
    ("paged_kv_append", "np.linalg.svd(x)", None),  # no family: the allow-list judges only a family's kernels
    # round 34 (az): honest table builders, self-checks and logs
    ("conv2d", "np.polynomial.chebyshev.chebpts2(4) + np.linalg.vector_norm(x)", None),
    # round 56 (df02, df03), reconsidered in round 58: a Kronecker or outer product is a broadcast multiply
    ("conv2d", "np.kron(x, w)", None), ("conv2d", "np.outer(x, w)", None), ("gemm", "np.kron(x, w)", "vendor-op"),
    ("conv2d", "np.multiply.outer(x, w)", "unlisted-routine"), ("attention", "np.multiply.outer(x, w)", None),
    # round 57 (di01, di02, di05): a grid, a mean of other values
    ("gemm", "torch.trapezoid(x, w, dim=-1)", "unlisted-routine"), ("gemm", "torch.trapezoid(x, dx=0.5)", None),
    ("gemm", "torch.cumulative_trapezoid(x, w)", "unlisted-routine"), ("gemm", "torch.trapz(x, dim=-1)", None),
    ("gemm", "np.var(x, axis=-1, mean=w)", "unlisted-routine"), ("gemm", "np.std(x, -1, ddof=1, keepdims=True)", None),
    ("gemm", "np.nanvar(x, -1, None, w)", "unlisted-routine"), ("gemm", "x.var(axis=-1, mean=w)", "unlisted-routine"),
    ("gemm", "x.std(**w)", None), ("gemm", "x.var(-1, keepdims=True)", None),  # ** of settings: round 61, dw
    # round 58 (dl01): a sampler that multiplies by a factor of its matrix, however it is reached
    ("gemm", "np.random.default_rng(0).multivariate_normal(x, w)", "unlisted-routine"),
    ("gemm", "getattr(q, 'multivariate_normal')(x, w)", "unlisted-routine"),
    ("conv2d", "np.random.multivariate_normal(x, w)", "unlisted-routine"),
    ("gemm", "np.random.default_rng(0).standard_normal(x.shape) + np.random.normal(size=3)", None),
    # round 59 (dq FV-1 to FV-3): a class of the kernel's own with such a method (below: class Tile, def dist, var)
    ("gemm", "Tile().dist(q) + Tile().var(mean=None)", None), ("gemm", "torch.dist(x, w)", "vendor-op"),
    # round 60 (dt FV-7): ** of a dict the module binds without a mean; (dr04) below, a class pattern's attributes
    ("gemm", "x.var(**R) + x.var(**{'dim': 1}) + x.var(**k)", None), ("gemm", "x.var(**{'mean': w})", "unlisted-routine"),
    ("gemm", "x.var(**dict(mean=w))", "unlisted-routine"),
    ("paged_kv_append", "x.var(axis=-1, mean=w)", None),  # no family: the allow-list judges only a family's kernels
    ("softmax", "np.array2string(x) + np.version.short_version + str(functools.reduce(np.logaddexp, x))", None),
    ("gelu", "np.polyfit(x, w, 7) + np.linalg.inv(x)", None),  # solves are products: a part here
    ("conv2d", "np.linalg.inv(x)", "unlisted-routine"),  # [[I,A,0],[0,I,B],[0,0,I]]^-1 holds AB: not in a conv
    ("conv2d", "statistics.fmean(x)", None),
    ("conv2d", "statistics.fmean(x, weights=w)", "unlisted-routine"),  # a weighted mean is a dot product
    ("conv2d", "functools.partial(statistics.fmean, weights=w)(x)", "unlisted-routine"),
    ("conv2d", "np.polynomial.chebyshev.chebmul(x, w)", "vendor-op"),
    # round 35 (bb): a fit by numpy's classes where products are a part, Chebyshev interpolation, exception classes
    ("gelu", "np.polynomial.Polynomial.fit(x, w, 7).convert().coef", None),
    ("gelu", "np.polynomial.chebyshev.chebinterpolate(np.tanh, 9)", None),
    ("attention", "np.linalg.LinAlgError", None),
    ("embedding", "list(map(statistics.fmean, x))", None),
    ("embedding", "functools.reduce(statistics.fmean, [x, w])", "unlisted-routine"),  # fmean(x, w): weighted
    ("conv2d", "np.polynomial.Polynomial(x) * w", "vendor-op"),  # its * is a convolution
])  # fmt: skip
def test_numpy_math_and_statistics_names_by_allow_list_in_a_familys_kernel(op_type, expression, rule) -> None:
    """Rounds 21 to 33 found numpy and standard-library routines that do a family's op in C or BLAS one at a time
    (a deny-list inside modules importable whole); the conv family still lacked ``numpy.tensordot``. In a kernel of
    an op type with a family, a name of numpy, ``math`` or ``statistics`` must now be on an allow-list
    (``guard.numerics``), so that the next routine is ``unlisted-routine``, not a way in."""
    code = ("import functools, math, statistics, torch\nimport numpy as np\nimport numpy.polynomial.polynomial as P\n\n\n"
            f"def f(u, x):\n    return u.reduce(x)\n\n\ndef run(x, w, q, k):\n    return {expression}\n")
    code += "\n\nR = {'dim': -1}\n"
    if "Tile" in expression:
        code += "\n\nclass Tile:\n    def dist(self, o):\n        return 0\n\n    def var(self, mean=None):\n        return 0\n"
    found = {f.rule for f in scan_sources([("k.py", code)], definition_name="d", op_type=op_type) if f.line == 11}
    assert found == ({rule} if rule else set())


HELPER = """import numpy as np


def tables(a):
    return np.linalg.inv(a)


{use}


def run(x, w):
    return x
"""


@pytest.mark.parametrize("use, elsewhere, refused", [
    ("T = tables(np.eye(2))", "", False),  # called at import only, on constants: a table
    ("T = [tables(np.eye(2)) for _ in range(2)]", "", False),
    ("T = tables(np.eye(2))\nrun = lambda x, w: tables(x)", "", True),  # also reached during a call
    ("T = tables(np.eye(2))\nF = tables", "", True),  # handed on as a value
    ("T = tables(np.eye(2))\nNAME = 'tables'", "", True),  # named by a string: globals()[NAME]
    ("T = tables(np.eye(2))", "from k import tables\n", True),  # another of the kernel's modules imports it
    ("", "", True),  # never called here: called from outside, as an entry point is
    # round 59 (dq FV-4, FV-6): a generator used up where it is made; __all__ names it for a star import only
    ("T = dict((n, tables(n)) for n in (1, 2))", "", False), ("T = iter(tables(n) for n in (1, 2))", "", True),
    ("T = tables(np.eye(2))\n__all__ = ['tables', 'run']", "", False),
    ("T = tables(np.eye(2))\n__all__ = ['tables', 'run']", "from k import *\n", True),
    ("T = tables(np.eye(2))", "from k import *\n", True),  # public: a star import takes it
])  # fmt: skip
def test_a_helper_only_module_level_code_calls_runs_at_import(use: str, elsewhere: str, refused: bool) -> None:
    """A product on constants (a solve: a product where a GEMM is no part of the op) is a table where it runs as the
    module is imported, in a helper of the module's too when module-level code is all that calls it (round 57, dk
    FV-1); reached any other way, it may run during a call."""
    sources = [("k.py", HELPER.format(use=use))] + ([("other.py", elsewhere)] if elsewhere else [])
    found = [f for f in scan_sources(sources, definition_name="d", op_type="conv2d") if f.rule == "unlisted-routine"]
    assert bool(found) == refused, found
    cached = HELPER.replace("def tables", "@functools.lru_cache(maxsize=None)\ndef tables").replace(
        "import numpy as np", "import functools\nimport numpy as np").format(use="T = tables(3)")  # dq FV-8
    assert [f for f in scan_sources([("k.py", cached)], definition_name="d", op_type="conv2d")] == []
    kept = cached.replace("functools.lru_cache(maxsize=None)", "keep")  # a decorator of its own may keep it
    assert "unlisted-routine" in [f.rule for f in scan_sources([("k.py", kept)], definition_name="d", op_type="conv2d")]
    generator = HELPER.replace("return np.linalg.inv(a)", "yield np.linalg.inv(a)").format(use="T = tables(np.eye(2))")
    assert [f.rule for f in scan_sources([("k.py", generator)], definition_name="d", op_type="conv2d")] == [
        "unlisted-routine"]  # its body runs when it is iterated, during a call maybe


@pytest.mark.parametrize("case, rule", [("np.ndarray(dot=f)", "vendor-op"), ("np.ndarray(shape=f)", None),
                                        ("torch.Tensor(matmul=f)", "vendor-op"), ("Tile(dot=f)", None),
                                        ("types.SimpleNamespace(dot=f)", None),  # round 61, dw FV-1 to FV-4
                                        ("object(dot=f)", "vendor-op"), ("T(dot=f)", "vendor-op"),  # round 62, dx
                                        ("collections.abc.Sized(dot=f)", "vendor-op"), ("T(f)", "computed-name"),
                                        ("Abstract(dot=f)", "vendor-op"), ("torch.Tensor(shape=(m, n))", None)])
def test_a_class_patterns_attributes_are_judged_as_attributes_red_team_round_60(case: str, rule: str | None) -> None:
    """dr04: ``case np.ndarray(dot=f)`` binds the bound method, numpy's GEMM, with no attribute node to read; so does
    ``object(dot=f)``, a class bound at run time, or an ABC a kernel can register for ndarray (round 62, dx04, dx05).
    Only a plain class of the kernel's own, or one no array can be an instance of, reads fields."""
    code = ("import numpy as np\nimport torch, types, abc, collections.abc\n\n\nclass Tile:\n    def dot(self, o):\n"
            "        return 0\n\n\nclass Abstract(abc.ABC):\n    pass\n\n\n"
            f"def run(a, w):\n    T = type(a)\n    match a:\n        case {case}:\n            return f(w)\n")
    found = {f.rule for f in scan_sources([("k.py", code)], definition_name="d", op_type="gemm") if f.line == 17}
    assert found == ({rule} if rule else set())


def test_a_worker_answers_with_nothing_of_its_own_queued_on_the_gpu(monkeypatch) -> None:
    """ds02 (round 60, modelled): work a finalizer queued after the harness's last sync ran on while the judge timed
    the baseline; every reply now waits for the process's GPU work, where CUDA is up, through the functions the
    harness bound before any kernel's import."""
    import sys
    from types import SimpleNamespace

    from pytest_solbench.worker import pool

    synced: list[int] = []
    monkeypatch.setattr(pool, "_DRAIN", [])
    pool._drained()  # nothing held: no torch in this process yet
    initialized = [True]
    monkeypatch.setattr(pool, "_DRAIN", [lambda: initialized[0], lambda: synced.append(1)])  # as hold_drain binds
    cuda = SimpleNamespace(is_initialized=lambda: synced.append("kernel") or True, synchronize=lambda: None)
    monkeypatch.setitem(sys.modules, "torch", SimpleNamespace(cuda=cuda))  # a kernel's replacement is never called
    pool._drained()
    assert synced == [1]  # round 61, dv02: torch's functions as the harness bound them, not as found at the reply
    initialized[0] = False
    pool._drained()
    assert synced == [1]


def test_onednn_graph_switched_off_is_no_patching_and_on_is() -> None:
    """``torch.jit.enable_onednn_fusion(False)`` asks for what the kernel's process holds anyway (red-team round 36,
    bd FV-2); True, or a value not written out, is ``patching``."""
    code = "import torch\n\n\ntorch.jit.enable_onednn_fusion({})\n"
    assert py(code.format("False")) == []
    assert py(code.format("True")) == [("patching", 4)]
    assert py(code.format("flag")) == [("patching", 4)]


@pytest.mark.parametrize("line", ["class A:\n    __array_ufunc__ = f", "B.__array_function__ = f",
                                  "setattr(B, '__array_function__', f)", "ns = {'__array_ufunc__': f}",
                                  "class A:\n    def __array_function__(self, func, types, args, kwargs): pass"])
def test_numpy_s_override_hooks_are_their_own_rule_however_they_are_set_red_team_round_49(line: str) -> None:
    """ck: numpy hands __array_function__ / __array_ufunc__ its own functions (numpy.dot: BLAS, below the record),
    so an allowance for dunders does not cover them; and locals() fills a class body's namespace by key."""
    found = {f.rule for f in scan_sources([("k.py", f"f = len\nB = object\n{line}\n")], definition_name="x",
                                          op_type="gemm")}  # fmt: skip
    assert found == {"numpy-hook"}, found
    assert _rules_at_line_2("class A:\n    locals()['x'] = 1\n") == {"introspection"}
    assert _rules_at_line_2("import numpy\nprint(numpy.__version__, '__main__' == __name__)\n") == set()
    assert _rules_at_line_2("x = 1\nns = {'__globals__': x}\n") == {"dunder"}


@pytest.mark.parametrize("base, refused", [
    ("type(np.empty(0))", True), ("*BASES", True), ("BASES[0]", True), ("make_base()", True),  # round 62, dx01 to dx03
    ("object", False), ("Exception", False), ("enum.Enum", False), ("typing.NamedTuple", False),
    ("typing.Generic[T]", False), ("collections.namedtuple('P', 'a b')", False), ("torch.nn.Module", False),
    ("Own", False), ("abc.ABC", False), ("Middle", True),
])  # fmt: skip
@pytest.mark.parametrize("matched", [True, False])
def test_a_class_a_pattern_reads_has_named_bases_in_a_family_kernel(base: str, refused: bool, matched: bool) -> None:
    """A computed base (``class P(type(np.empty(0)))``) inherits unseen what a numpy base would lend, an ndarray's dot
    read back through a class pattern's positions (red-team round 62, dx03), an ancestor's too; a base the rules can
    name may stand, and a class no pattern reads is not judged here (round 63, ec FV-5: a mixin factory)."""
    code = ("import abc, collections, enum, typing\nimport numpy as np\nimport torch\n\nT = typing.TypeVar('T')\n"
            "BASES = (object,)\n\n\ndef make_base():\n    return object\n\n\nclass Own:\n    pass\n\n\n"
            f"class P({base}):\n    pass\n\n\nclass Middle(type(np.empty(0))):\n    pass\n\n\n"
            + ("def run(a):\n    match a:\n        case P(x):\n            return x\n" if matched else ""))
    found = [f.rule for f in scan_sources([("k.py", code)], definition_name="d", op_type="gemm")
             if f.rule == "computed-name"]  # fmt: skip
    assert found == (["computed-name"] if refused and matched else [])


@pytest.mark.parametrize("fields", ["__match_args__ = ('bm', 'mv')", "bm: int\n    mv: bool"])
@pytest.mark.parametrize("base", ["", "(torch.nn.Module)"])
def test_match_args_naming_a_vendor_method_are_refused_only_where_a_base_can_lend_it(fields: str, base: str) -> None:
    """A plain class's ``mv`` flag is its own field (round 62, dz FV-1); a class with a library base may inherit the
    method ``__match_args__`` (or a dataclass's fields) names."""
    code = (f"import dataclasses\nimport torch\n\n\n@dataclasses.dataclass\nclass Plan{base}:\n    {fields}\n\n\n"
            "def run(a, w):\n    match Plan(1, True):\n        case Plan(bm, mv):\n            return bm\n")
    found = [f.rule for f in scan_sources([("k.py", code)], definition_name="d", op_type="gemm")]
    assert found == (["vendor-op"] if base else [])
    unmatched = code.split("def run")[0] + "def run(a, w):\n    return Plan(1, True).bm\n"  # round 63, ec FV-1
    assert scan_sources([("k.py", unmatched)], definition_name="d", op_type="gemm") == []


@pytest.mark.parametrize("helper, use, refused", [
    ("class Plan:\n    mv = False\n", "from helpers import Plan", False),
    ("class Plan:\n    mv = False\n", "from .helpers import Plan", False),
    ("class Plan:\n    mv = False\n", "import helpers\nPlan = helpers.Plan", False),
    ("class Base:\n    pass\n\n\nclass Plan(Base):\n    mv = False\n", "from helpers import Plan", False),
    ("import numpy as np\nPlan = type(np.empty(0))\n", "from helpers import Plan", True),  # round 63, ea05
    ("import os\n\n\nclass Plan(os.PathLike):\n    pass\n", "from helpers import Plan", True),  # ea01: an ABC
])  # fmt: skip
def test_a_class_pattern_over_a_class_of_a_sibling_module_reads_fields_only_where_it_is_plain(helper: str, use: str,
                                                                                           refused: bool) -> None:
    kernel = f"{use}\n\n\ndef run(a, w):\n    match a:\n        case Plan(mv=f):\n            return f(w)\n"
    found = [f.rule for f in scan_sources([("kernel.py", kernel), ("helpers.py", helper)], definition_name="d",
                                          op_type="gemm") if f.path == "kernel.py"]  # fmt: skip
    assert found == (["vendor-op"] if refused else [])


@pytest.mark.parametrize("code, refused", [
    ("def run(a, w):\n    f = a.dot\n    return f(w)\n", True),  # an array's GEMM read as a value (round 63)
    ("class Engine:\n    def dot(self, a, b):\n        return a\n\n\nENGINE = Engine()\nf = ENGINE.dot\n", False),
    ("class Engine:\n    def dot(self, a, b):\n        return a\n\n\nENGINE = Engine()\nENGINE = x\nf = ENGINE.dot\n", True),
    ("import enum\n\n\nclass Path(enum.Enum):\n    mm = 'mm'\n    mv = 'mv'\n\n\np = Path.mv\n", False),
    ("class C:\n    dot = None\n\n\nf = C.dot\n", True),  # a body's None may be replaced: not the class's own
    ("class E:\n    def dot(self, o):\n        return o\n\n    def product(self, o):\n        return self.dot(o)\n\n"
     "    alias = product\n\n\nz = E.alias(a, w)\n", True),  # reached through an alias (round 65, eg10)
    ("class E:\n    def dot(self, o):\n        return o\n\n    def product(self, o):\n        return self.dot(o)\n\n\n"
     "kind = type(E())\nz = kind.product(a, w)\n", True),  # through type(instance) (eg15)
    ("class E:\n    def dot(self, o):\n        return o\n\n    def product(self, o):\n        return self.dot(o)\n\n\n"
     "z = list(vars(E).values())[-1](a, w)\n", True),  # the class handed on as a value (eg11)
    ("class E:\n    def dot(self, o):\n        return o\n\n    def product(self, o):\n        return self.dot(o)\n\n\n"
     "ENGINE = E()\nz = ENGINE.product(w)\n", False),
    ("class Base:\n    def mm(self, a, b):\n        return a\n\n\nclass Sub(Base):\n    def go(self, a, b):\n"
     "        return self.mm(a, b)\n\n\nENGINES = {1: Sub()}\nz = ENGINES[1].mm(a, b)\n", False),  # ei FV-2, FV-3
    ("import dataclasses\n\n\n@dataclasses.dataclass\nclass P:\n    mv: bool = False\n\n\nPLAN = P()\nf = PLAN.mv\n", False),
    ("class H:\n    def __init__(self):\n        self.mv = None\n\n    def go(self):\n        return self.mv\n", False),
    ("import torch\n\n\nclass H:\n    def dot(self, a):\n        return a\n\n    @torch.no_grad()\n    def go(self, a):\n"
     "        return self.dot(a)\n", False),  # a grad mode keeps self (round 64, ef FV-4)
    ("import functools\n\n\nclass H:\n    def dot(self, a):\n        return a\n\n    @functools.cache\n"
     "    def go(self, a):\n        return self.dot(a)\n", True),  # another decorator may hand any object
    ("class H:\n    def dot(self, a):\n        return a\n\n    def go(self, a):\n        return self.dot(a)\n\n\n"
     "H.go(arr, w)\n", True),  # reached through its class: self is any object (round 22, aa01)
])  # fmt: skip
def test_an_attribute_named_like_a_vendor_method_is_the_kernels_own_only_where_its_class_binds_it(code: str,
                                                                                                 refused: bool) -> None:
    """A vendor method read as a value or called (round 63) is the kernel's own where a class of the file binds the
    name itself and the attribute is read on that class, on ``self`` in its methods, or on a name bound once to an
    instance (round 64, ef FV-1 to FV-6); elsewhere it may be an array's."""
    found = [f.rule for f in scan_sources([("k.py", code)], definition_name="d", op_type="gemm")]
    assert ("vendor-op" in found) == refused, found


@pytest.mark.parametrize("body, refused", [
    ("    a = Tile(x)\n    return [a.dot(v) for v in w]\n", False),  # a closure over its own tile (round 67, eo)
    ("    a: Tile = Tile(x)\n    return a.dot(w)\n", False),
    ("    a, b = Tile(x), Tile(w)\n    return a.dot(b)\n", False),
    ("    a = Tile(x)\n    return list(map(lambda v: a.dot(v), w))\n", False),
    ("    a = Tile(x)\n\n    def swap():\n        nonlocal a\n        a = arr\n    swap()\n    return a.dot(w)\n", True),
    ("    a = Tile(x)\n    [(a := arr) for _ in [0]]\n    return a.dot(w)\n", True),  # a walrus binds run's a
    ("    a = Tile(x)\n    return [a.dot(v) for a in w]\n", True),  # the comprehension's own a
    ("    a = Tile(x)\n    f = lambda a=arr: a.dot(w)\n    return f()\n", True),
    ("    a, b = Tile(x), arr\n    return b.dot(w)\n", True),
    ("    a = Odd(x)\n    return a.dot(w)\n", True),  # __new__ may hand back x itself (round 67, em01)
    ("    a = Meta(x)\n    return a.dot(w)\n", True),  # so may a metaclass's __call__ (em02)
])  # fmt: skip
def test_an_own_tiles_dot_is_read_through_its_functions_scopes(body: str, refused: bool) -> None:
    """``.dot`` is judged strictly (numpy's has no operator record): a name bound once in a function to an instance of
    the file's class is its own there and in the closures that do not bind it again (round 67, eo FV1, FV3, FV4, FV6,
    FV7); a ``nonlocal``, a walrus or a parameter of the same name may hold an array."""
    code = ("class Tile:\n    def dot(self, o):\n        return o\n\n\nclass Odd(Tile):\n    def __new__(cls, x):\n"
            "        return x\n\n\nclass Meta(Tile, metaclass=type):\n    pass\n\n\n"
            f"def run(x, w, arr):\n{body}")
    found = [f.rule for f in scan_sources([("k.py", code)], definition_name="d", op_type="gemm")]
    assert ("vendor-op" in found) == refused, found

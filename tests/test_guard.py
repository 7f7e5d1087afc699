"""The static guard: red-team kernels fire their rule at the marked line; examples and references stay clean."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from pytest_solbench.guard.rules import RULES, Finding, allowances, scan_sources, strip_cpp
from pytest_solbench.data.kernels import KernelSpec, discover
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
    return list(kernel.sources) or [(kernel.path.name, kernel.path.read_text())]


def scan(kernel: KernelSpec, allowed: dict[str, str] | None = None) -> list[Finding]:
    definition = DEFINITIONS[kernel.definition]
    return scan_sources(sources(kernel), definition_name=definition.name, op_type=definition.op_type,
                        dtypes=dtypes(definition), allowed=allowed or {})  # fmt: skip


def dtypes(definition: Definition) -> list[str]:
    return [spec.dtype for spec in definition.inputs + definition.outputs]


def constants(kernel: KernelSpec) -> dict[str, object]:
    """EXPECTED, LAYER and CAUGHT_BY of a red-team kernel, read without importing it."""
    if kernel.path.suffix == ".json":
        return json.loads(kernel.path.read_text())
    tree = ast.parse(kernel.path.read_text())
    return {t.id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
            for t in n.targets if isinstance(t, ast.Name) and t.id.isupper()}  # fmt: skip


def marked_lines(kernel: KernelSpec) -> list[tuple[str, int]]:
    """(file, line) of every line a red-team source marks with a trailing ``# HACK`` or ``// HACK`` comment."""
    return [(path, number) for path, text in sources(kernel) for number, line in enumerate(text.splitlines(), 1)
            if line.rstrip().endswith(("# HACK", "// HACK"))]  # fmt: skip


def by_layer(layer: str) -> list[KernelSpec]:
    return [k for k in REDTEAM_KERNELS if constants(k)["LAYER"] == layer]


def test_redteam_holds_at_least_25_kernels_each_with_a_trick_a_layer_and_an_expected_outcome() -> None:
    assert REDTEAM_ERRORS == []
    assert len(REDTEAM_KERNELS) >= 25
    for kernel in REDTEAM_KERNELS:
        found = constants(kernel)
        assert found["LAYER"] in ("static", "runtime-cpu", "runtime-gpu", "judge", "judge-gpu"), kernel.path
        # PASSED: a trick against timers this harness does not use; it gains nothing, and its time is honest.
        judged = ("reply-schema", "timed-output", "kernel-set-changed", "no-kernel", "outside-clock")  # test_judge.py
        assert found["EXPECTED"] in RULES or found["EXPECTED"] in ("REWARD_HACK", "INCORRECT_NUMERICAL", "PASSED",
                                                                   *judged), kernel.path  # fmt: skip
        assert kernel.definition in DEFINITIONS, kernel.path
        is_json = kernel.path.suffix == ".json"
        trick = found["description"] if is_json else ast.get_docstring(ast.parse(sources(kernel)[0][1]))
        assert trick, f"{kernel.path}: name the trick in a docstring (or the solution's description)"
    assert len(by_layer("static")) >= 25


def kernel_id(kernel: KernelSpec) -> str:
    return kernel.path.parent.name if kernel.path.suffix == ".json" else kernel.path.stem


@pytest.mark.parametrize("kernel", by_layer("static"), ids=kernel_id)
def test_static_redteam_kernel_fires_its_rule_at_the_marked_line(kernel: KernelSpec) -> None:
    expected = constants(kernel)["EXPECTED"]
    marks = marked_lines(kernel)
    assert len(marks) == 1, f"{kernel.path}: mark exactly one line with '# HACK'"
    findings = scan(kernel)
    assert any((f.rule, f.path, f.line) == (expected, *marks[0]) for f in findings), findings


@pytest.mark.parametrize("kernel", by_layer("runtime-cpu") + by_layer("runtime-gpu"), ids=kernel_id)
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
    assert py("import torch\ntorch.Tensor.__sub__ = None\n") == [("patching", 2)]
    assert py("import time\nsetattr(time, 'time', None)\n") == [("patching", 2)]
    assert py("import functools\n@functools.cache\ndef helper(n):\n    return n\n") == []


def test_a_kernel_may_change_its_own_modules_state() -> None:
    helper = ("tables.py", "CONFIGS = {}\n")
    kernel = ("kernel.py", "import tables\nfrom . import tables as t\ntables.CONFIGS[4096] = 8\nt.best = 1\n")
    assert scan_sources([helper, kernel], definition_name="p", op_type="rmsnorm") == []


def test_vendor_ops_depend_on_the_op_type() -> None:
    assert py("def run(a, b):\n    return a @ b\n", op_type="gemm") == [("vendor-op", 2)]
    assert py("def run(a, b):\n    a @= b\n    return a\n", op_type="linear_gelu") == [("vendor-op", 2)]
    assert py("def run(a, b):\n    return a @ b\n", op_type="rmsnorm") == []
    assert py("import torch\ndef run(x):\n    return torch.softmax(x, -1)\n", op_type="gqa_paged") == []
    assert py("import torch.nn.functional as F\ndef run(x, w):\n    return F.layer_norm(x, (8,), w)\n",
              op_type="layernorm") == [("vendor-op", 3)]  # fmt: skip


def test_precision_downgrade_only_when_the_definition_is_all_float32() -> None:
    code = "import torch\ndef run(x):\n    return x.half().float()\n"
    assert py(code, dtypes=["float32", "float32"]) == [("precision-downgrade", 3)]
    assert py(code, dtypes=["bfloat16", "float32"]) == []
    assert py(code) == []


def test_cpp_strips_comments_and_strings_but_keeps_lines() -> None:
    text = '// cudaStreamCreate\nconst char* s = "fork()";\n/* dlopen\n */ int x = 1;\ncudaStreamCreate(&s);\n'
    assert strip_cpp(text).count("\n") == text.count("\n")
    found = scan_sources([("k.cu", text)], definition_name="p", op_type="rmsnorm")
    assert [(f.rule, f.line) for f in found] == [("side-stream", 5)]


def test_allowances_need_a_known_rule_and_a_written_reason() -> None:
    text = 'SOLBENCH_ALLOW = {"threads": "the pool is joined before run returns", "side-stream": " ", "nope": "x"}\n'
    text += "import threading\n"
    solution = {"spec": {"solbench_allow": {"file-network-os": "reads its own tuning table", "ctypes": "why"}}}
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

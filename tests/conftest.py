"""Shared fixtures: tiny problem projects written into pytester folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    """Warm what the suite's in-process pytester runs need, unless this process is a run of the plugin itself over
    problems (``pytest --solbench`` in this repository loads this conftest too, through testpaths)."""
    if not config.getoption("solbench", default=False):
        _warm_lazy_imports()


def _warm_lazy_imports() -> None:
    """torch and triton are imported once here (pytester's in-process runs drop the modules they import, and torch
    and triton abort when imported a second time). Then every plugin module, and FLOPs counted once on meta
    tensors, so that what they load lazily is in place before pytester snapshots sys.modules: a module dropped
    after one in-process run and imported again in the next would exist twice (``from . import x`` finds the stale
    one), and torch refuses re-registration."""
    import importlib
    import pkgutil

    import torch

    if not torch.cuda.is_available():  # without a GPU, Triton kernels run in its interpreter (set before importing it)
        os.environ.setdefault("TRITON_INTERPRET", "1")
    import triton  # noqa: F401

    import pytest_solbench
    from pytest_solbench.sol.flops import count_flops

    for module in pkgutil.walk_packages(pytest_solbench.__path__, "pytest_solbench."):
        if module.name != "pytest_solbench.problems" and not module.name.startswith("pytest_solbench.problems."):
            importlib.import_module(module.name)

    a = torch.empty(4, 4, device="meta")
    count_flops(lambda x, y: torch.softmax(x @ y, -1) * 2, [a, a])


REPO = Path(__file__).resolve().parent.parent

SCALE_ADD = {
    "name": "scale_add_f32",
    "op_type": "axpy",
    "description": "out = alpha * x + y, a toy problem for the plugin's own tests",
    "tags": ["model:toy", "stage:forward"],
    "axes": {"n": {"type": "var"}},
    "inputs": {
        "x": {"shape": ["n"], "dtype": "float32"},
        "y": {"shape": ["n"], "dtype": "float32"},
        "alpha": {"shape": None, "dtype": "float32"},
    },
    "outputs": {"out": {"shape": ["n"], "dtype": "float32"}},
}
SCALE_ADD_REFERENCE = "def run(x, y, alpha):\n    return alpha * x + y\n"
WORKLOADS = [
    {"uuid": "w-16", "axes": {"n": 16}, "inputs": {"x": {"type": "random"}, "y": {"type": "random"}, "alpha": {"type": "scalar", "value": 2.0}}},
    {"uuid": "w-1000", "axes": {"n": 1000}, "inputs": {"x": {"type": "random"}, "y": {"type": "random"}, "alpha": {"type": "scalar", "value": 0.5}}},
]

KERNELS = {
    "good_dps.py": 'DEFINITION = "scale_add_f32"\n\ndef run(x, y, alpha, out):\n    out.copy_(alpha * x + y)\n',
    "good_value.py": 'DEFINITION = "scale_add_f32"\n\ndef run(x, y, alpha):\n    return x * alpha + y\n',
    "off_by_one.py": (
        'DEFINITION = "scale_add_f32"\n\ndef run(x, y, alpha, out):\n    out.copy_(alpha * x + y)\n    out[3] += 1.0\n'
    ),
    "raises.py": 'DEFINITION = "scale_add_f32"\n\ndef run(x, y, alpha):\n    raise RuntimeError("boom from the kernel")\n',
}


def write_problem(root: Path, definition: dict = SCALE_ADD, reference: str = SCALE_ADD_REFERENCE,
                  workloads: list = WORKLOADS, layout: str = "sol") -> Path:  # fmt: skip
    """Write a problem in the SOL-ExecBench layout (default) or the FlashInfer-Trace one; return its definition file."""
    if layout == "sol":
        folder = root / definition["name"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "definition.json").write_text(json.dumps(definition, indent=1))
        (folder / "reference.py").write_text(reference)
        (folder / "workload.jsonl").write_text("".join(json.dumps(w) + "\n" for w in workloads))
        return folder / "definition.json"
    op = definition["op_type"]
    (root / "definitions" / op).mkdir(parents=True, exist_ok=True)
    (root / "workloads" / op).mkdir(parents=True, exist_ok=True)
    path = root / "definitions" / op / f"{definition['name']}.json"
    path.write_text(json.dumps({**definition, "reference": reference}))
    lines = [{"definition": definition["name"], "solution": None, "workload": w, "evaluation": None} for w in workloads]
    (root / "workloads" / op / f"{definition['name']}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def write_kernels(root: Path, names: list[str]) -> Path:
    folder = root / "kernels"
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text(KERNELS[name])
    return folder


CPU = ["--solbench", "--solbench-device", "cpu", "-p", "no:cacheprovider"]
FAST = [*CPU, "--solbench-isolate", "none", "--solbench-rounds", "2"]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester folder holding the toy problem under problems/."""
    write_problem(pytester.path / "problems")
    pytester.makeini("[pytest]\nsolbench_problems = problems\n")
    return pytester


@pytest.fixture
def fresh_pools(monkeypatch: pytest.MonkeyPatch):
    """The judge's kernel pools made anew for one test (so they see its environment), and closed after it."""
    from pytest_solbench.judge import kernel as judge_kernel

    monkeypatch.setenv("TRITON_INTERPRET", "1")
    pools: dict = {}
    monkeypatch.setattr(judge_kernel, "_POOLS", pools)
    yield pools
    for pool in pools.values():
        pool.close()


def judging(guard: bool = True, allowed: tuple[str, ...] = (), reference: bool = False) -> object:
    """A judge's ``Kernel`` holding only a request (the guard on or off, the rules its kernel allows, whether it is
    the problem's reference): enough for its judging methods (``judge_ops``, ``judge_kernels``)."""
    from types import SimpleNamespace

    from pytest_solbench.judge.kernel import Kernel

    kernel = Kernel.__new__(Kernel)
    kernel.request = SimpleNamespace(guard=guard, allowed_rules=allowed, kernel={"is_reference": reference})
    return kernel

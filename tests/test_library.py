"""The bundled problem library and example kernels: every problem loads, its reference runs, every example passes.

This is the direct check of problems/ and examples/. The harness (another module, with its own tests) also runs
the examples end to end. Here the Triton examples run on CPU under TRITON_INTERPRET=1 in a fresh Python: the
variable only takes effect when set before triton is first imported (triton's own ``tl.sum`` is a jit function
made at import), and the suite's conftest imports triton at start-up.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
import math
import os
import subprocess
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pytest_solbench.data.dtypes import DTYPES, is_fp4
from pytest_solbench.options import DEFAULT_CPU_MAX_ELEMENTS
from pytest_solbench.data.trace import Definition, Problem, TensorSpec, Workload, eval_expression, load_problem

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "problems"
EXAMPLES = ROOT / "examples"

#: A workload is small enough for CPU when no tensor that grows with a var axis has more elements than the harness
#: runs on CPU by default, and all its tensors together (weights included) hold at most CPU_MAX_BYTES.
CPU_MAX_BYTES = 64 * 2**20
#: A workload matters on a GPU when it moves at least this much (about 20 us of H100 DRAM time).
GPU_MIN_BYTES = 64 * 2**20


def definition_files() -> list[Path]:
    """Definitions in both layouts: <dir>/definition.json and definitions/<op_type>/<name>.json."""
    return sorted(PROBLEMS.glob("**/definition.json")) + sorted(PROBLEMS.glob("**/definitions/**/*.json"))


FILES = definition_files()
IDS = [p.parent.name if p.name == "definition.json" else p.stem for p in FILES]


@pytest.fixture(scope="module", params=FILES, ids=IDS)
def problem(request: pytest.FixtureRequest) -> Problem:
    return load_problem(request.param)


@functools.cache
def find(name: str) -> Problem:
    """The bundled problem of that name (files are named after their problem: look there first)."""
    for path in [p for p, i in zip(FILES, IDS) if i == name] + FILES:
        found = load_problem(path)
        if found.definition.name == name:
            return found
    raise LookupError(name)


# ---------------------------------------------------------------- sizes, references, inputs, comparison


def elements(definition: Definition, spec: TensorSpec, axes: dict[str, int]) -> int:
    return 0 if spec.shape is None else math.prod(definition.shape_of(spec, axes))


def workload_bytes(definition: Definition, workload: Workload) -> float:
    axes = definition.axis_values(workload.axes)
    specs = definition.inputs + definition.outputs
    return sum(elements(definition, s, axes) * DTYPES[s.dtype].bits_per_element / 8 for s in specs)


def fits_cpu(definition: Definition, workload: Workload) -> bool:
    """Small enough for CPU: tensors that grow with a var axis within the harness's default, all within 64 MiB."""
    axes = definition.axis_values(workload.axes)
    var = set(definition.var_axes)
    growing = [s for s in definition.inputs + definition.outputs if s.shape and var & set(s.shape)]
    largest = max((elements(definition, s, axes) for s in growing), default=0)
    return largest <= DEFAULT_CPU_MAX_ELEMENTS and workload_bytes(definition, workload) <= CPU_MAX_BYTES


def cpu_workloads(problem: Problem) -> list[Workload]:
    """The workloads small enough for CPU, smallest first."""
    small = [w for w in problem.workloads if fits_cpu(problem.definition, w)]
    return sorted(small, key=lambda w: workload_bytes(problem.definition, w))


def load_module(path: Path, name: str) -> ModuleType:
    """Import a Python file under a fresh module name."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_REFERENCES: dict[Path, ModuleType] = {}


def reference_module(definition: Definition) -> ModuleType:
    """The definition's reference source as a module (reference.py's text, or the inline reference string)."""
    if definition.path not in _REFERENCES:
        module = ModuleType(f"_reference_{definition.name}")
        module.__file__ = str(definition.path)
        exec(compile(definition.reference, str(definition.path), "exec"), module.__dict__)
        _REFERENCES[definition.path] = module
    return _REFERENCES[definition.path]


def make_inputs(definition: Definition, workload: Workload, seed: int = 0, device: str = "cpu") -> dict[str, Any]:
    """Inputs as the harness makes them, simply: the custom entrypoint, or randn and scalars from the workload."""
    import torch

    torch.manual_seed(seed)
    axes = definition.axis_values(workload.axes)
    if definition.custom_inputs_entrypoint:
        scalars = {n: s.value for n, s in workload.inputs.items() if s.kind == "scalar"}
        factory = getattr(reference_module(definition), definition.custom_inputs_entrypoint)
        return factory({**axes, **scalars}, torch.device(device))
    values: dict[str, Any] = {}
    for spec in definition.inputs:
        how = workload.inputs[spec.name]
        if how.kind == "scalar":
            values[spec.name] = how.value
            continue
        assert how.kind == "random", f"{spec.name}: the library uses only random, scalar and custom inputs"
        assert DTYPES[spec.dtype].mark in ("fp32", "fp16", "bf16"), f"{spec.name}: random {spec.dtype}"
        dtype = getattr(torch, DTYPES[spec.dtype].torch_name)
        values[spec.name] = torch.randn(definition.shape_of(spec, axes), dtype=dtype, device=device)
    return values


def torch_shape(definition: Definition, spec: TensorSpec, axes: dict[str, int]) -> tuple[int, ...]:
    shape = definition.shape_of(spec, axes)
    return shape[:-1] + (shape[-1] // 2,) if is_fp4(spec.dtype) else shape


def as_tuple(result: Any) -> tuple:
    """A reference's or kernel's outputs; None: no outputs (it updates inputs in place, worker.inplace)."""
    if result is None:
        return ()
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def assert_close(got, expected, dtype: str, tolerance: dict[str, Any] | None, what: str) -> None:
    """The harness's own contract (worker.check, not a copy that can drift): the dtype's default tolerance with the
    workload's own keys over it, every rule the judge applies, the relative L2 error included."""
    from pytest_solbench.worker.check import check_output, tolerance_for

    assert got.shape == expected.shape and got.dtype == expected.dtype, f"{what}: {got.shape} {got.dtype}"
    _stats, mismatch = check_output(what, got, expected, tolerance_for(dtype, tolerance), expected_dtype=dtype)
    assert mismatch is None, mismatch.message()


# ---------------------------------------------------------------- the library as data


def test_library_covers_both_layouts_precisions_and_passes_with_unique_names() -> None:
    problems = [load_problem(p) for p in FILES]
    names = [p.definition.name for p in problems]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert len(problems) == 338
    assert any(p.name != "definition.json" for p in FILES), "no FlashInfer-Trace layout problem"
    assert {p.definition.tag("stage") for p in problems} == {"forward", "backward"}
    marks = {DTYPES[s.dtype].mark for p in problems for s in p.definition.inputs}
    assert {"bf16", "fp16", "fp32", "fp8", "nvfp4"} <= marks


def test_problem_is_well_formed(problem: Problem) -> None:
    d = problem.definition
    assert d.tag("model"), f"{d.name}: needs a model:... tag"
    assert d.tag("stage") in ("forward", "backward"), f"{d.name}: needs stage:forward or stage:backward"
    assert d.is_backward == (d.tag("stage") == "backward")
    assert len(d.description) > 80, f"{d.name}: the description should say what model, layer and shapes"
    assert 4 <= len(problem.workloads) <= 10, f"{d.name}: {len(problem.workloads)} workloads"
    uuids = [w.uuid for w in problem.workloads]
    assert len(set(uuids)) == len(uuids)
    assert len({tuple(sorted(w.axes.items())) for w in problem.workloads}) == len(uuids), "duplicate shapes"
    params = list(inspect.signature(reference_module(d).run).parameters)
    assert params == [s.name for s in d.inputs], f"{d.name}: run{tuple(params)}"


def test_workloads_bind_every_input_and_keep_the_constraints(problem: Problem) -> None:
    d = problem.definition
    custom = d.custom_inputs_entrypoint
    if custom:
        assert callable(getattr(reference_module(d), custom, None)), f"{d.name}: no function {custom}()"
    for w in problem.workloads:
        assert set(w.inputs) == {s.name for s in d.inputs}, f"{d.name} line {w.line}"
        kinds = {spec.kind for spec in w.inputs.values()}
        assert kinds == {"custom"} if custom else "custom" not in kinds, f"{d.name} line {w.line}: {kinds}"
        axes = d.axis_values(w.axes)
        for spec in d.inputs + d.outputs:
            if spec.shape is not None:
                assert all(n > 0 for n in d.shape_of(spec, axes)), f"{d.name} line {w.line}: {spec.name}"
        for text in d.constraints:
            assert eval(text, {"__builtins__": {}}, dict(axes)), f"{d.name} line {w.line}: {text}"
        if d.sol:
            for expression in (d.sol.get("flops") or {}).values():
                assert eval_expression(expression, axes) > 0, f"{d.name}: sol flops {expression!r}"
            if "bytes" not in d.sol:
                continue  # every input read and every output written once: the default count
            sol_bytes, every_byte = eval_expression(d.sol["bytes"], axes), workload_bytes(d, w)
            # What a kernel must touch: everything, unless indices let it skip part of an input (paged caches).
            indexed = any(not DTYPES[s.dtype].is_float for s in d.inputs if s.shape is not None)
            assert sol_bytes <= every_byte if indexed else sol_bytes == every_byte, f"{d.name}: sol bytes {sol_bytes}"


def test_index_and_low_precision_inputs_come_from_custom_inputs(problem: Problem) -> None:
    """Random index tensors would be invalid and random fp8/fp4 would carry no scales: the library builds them."""
    d = problem.definition
    special = [s.name for s in d.inputs if s.shape is not None and DTYPES[s.dtype].mark not in ("fp32", "fp16", "bf16")]
    if special:
        assert d.custom_inputs_entrypoint, f"{d.name}: {special} need a custom_inputs_entrypoint"


def test_workloads_span_cpu_and_gpu_sizes(problem: Problem) -> None:
    small = cpu_workloads(problem)
    assert len(small) >= 2, f"{problem.definition.name}: only {len(small)} workloads small enough for CPU"
    largest = max(workload_bytes(problem.definition, w) for w in problem.workloads)
    assert largest >= GPU_MIN_BYTES, f"{problem.definition.name}: no workload that matters on a GPU"


def test_tolerance_overrides_are_documented(problem: Problem) -> None:
    if any(w.tolerance for w in problem.workloads):
        docs = (ROOT / "docs" / "problems.md").read_text()
        assert problem.definition.name in docs.split("## Tolerances", 1)[-1], "say why in docs/problems.md"


# ---------------------------------------------------------------- references on CPU


def test_reference_runs_on_cpu_with_the_declared_outputs(problem: Problem) -> None:
    torch = pytest.importorskip("torch")
    d = problem.definition
    workload = cpu_workloads(problem)[0]
    inputs = make_inputs(d, workload)
    assert list(inputs) == [s.name for s in d.inputs], f"{d.name}: inputs come back as {list(inputs)}"
    axes = d.axis_values(workload.axes)
    for spec in d.inputs:
        if spec.shape is not None:
            assert tuple(inputs[spec.name].shape) == torch_shape(d, spec, axes), spec.name
            assert inputs[spec.name].dtype == getattr(torch, DTYPES[spec.dtype].torch_name), spec.name
    outputs = as_tuple(reference_module(d).run(*inputs.values()))
    assert len(outputs) == len(d.outputs)
    for spec, out in zip(d.outputs, outputs):
        assert tuple(out.shape) == torch_shape(d, spec, axes), f"{d.name}.{spec.name}: {tuple(out.shape)}"
        assert out.dtype == getattr(torch, DTYPES[spec.dtype].torch_name), f"{d.name}.{spec.name}: {out.dtype}"
        assert torch.isfinite(out.float()).all(), f"{d.name}.{spec.name}: non-finite output"
        assert out.float().abs().sum() > 0, f"{d.name}.{spec.name}: all zeros"


SOL_FILES = [p for p in FILES if "flops" in (load_problem(p).definition.sol or {})]


@pytest.mark.parametrize("path", SOL_FILES, ids=[p.parent.name for p in SOL_FILES])
def test_sol_flops_agree_with_counting_the_reference(path: Path) -> None:
    """A stated FLOP formula must match what the dispatch counter sees the reference do on real inputs."""
    pytest.importorskip("torch")
    from pytest_solbench.sol.flops import count_flops

    problem = load_problem(path)
    d = problem.definition
    workload = cpu_workloads(problem)[0]
    counted = count_flops(reference_module(d).run, list(make_inputs(d, workload).values()))
    axes = d.axis_values(workload.axes)
    stated = {dtype: eval_expression(text, axes) for dtype, text in d.sol["flops"].items()}
    if str(d.sol.get("note", "")).startswith("causal"):  # the reference computes the square under a hand-built mask;
        assert counted.keys() == stated.keys()  # the formula states the kept triangle (test_soundness's hand counts)
        assert all(stated[k] < counted[k] for k in stated), (stated, counted)
        return
    assert counted == stated


def test_rmsnorm_backward_reference_equals_autograd() -> None:
    torch = pytest.importorskip("torch")
    p = find("llama3_1_8b_rmsnorm_backward_h4096")
    dy, x, w = make_inputs(p.definition, cpu_workloads(p)[0]).values()
    grad_input, grad_weight = reference_module(p.definition).run(dy, x, w)
    xf, wf = x.float().requires_grad_(), w.float().requires_grad_()
    (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5) * wf).backward(dy.float())
    assert_close(grad_input, xf.grad.to(x.dtype), "bfloat16", None, "grad_input")
    assert_close(grad_weight, wf.grad.to(w.dtype), "bfloat16", None, "grad_weight")


def test_linear_backward_reference_equals_autograd() -> None:
    torch = pytest.importorskip("torch")
    p = find("llama3_1_8b_v_proj_linear_backward_n1024_k4096")
    dy, x, w = make_inputs(p.definition, cpu_workloads(p)[0]).values()
    grad_input, grad_weight = reference_module(p.definition).run(dy, x, w)
    xf, wf = x.float().requires_grad_(), w.float().requires_grad_()
    torch.nn.functional.linear(xf, wf).backward(dy.float())
    assert_close(grad_input, xf.grad.to(x.dtype), "bfloat16", None, "grad_input")
    assert_close(grad_weight, wf.grad.to(w.dtype), "bfloat16", None, "grad_weight")


def _autograd_gradients(name: str, inputs: dict[str, Any]) -> tuple:
    """The gradients a backward problem asks for, from torch.autograd on a forward written independently."""
    import torch
    import torch.nn.functional as F

    def leaf(name_: str):
        return inputs[name_].float().requires_grad_()

    if name == "llama3_1_8b_attention_backward_causal_h32_kv8_d128":
        q, k, v = (leaf(n).transpose(1, 2) for n in ("q", "k", "v"))
        q.retain_grad(), k.retain_grad(), v.retain_grad()
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=inputs["sm_scale"], enable_gqa=True)
        out.backward(inputs["grad_output"].float().transpose(1, 2))
        return tuple(t.grad.transpose(1, 2) for t in (q, k, v))
    if name in ("llama3_1_8b_silu_and_mul_backward_i14336", "gemma2_9b_gelu_tanh_and_mul_backward_i14336"):
        gate_up = leaf("gate_up")
        gate, up = gate_up.chunk(2, dim=-1)
        act = F.silu(gate) if "silu" in name else F.gelu(gate, approximate="tanh")
        (act * up).backward(inputs["grad_output"].float())
        return (gate_up.grad,)
    if name == "llama3_1_8b_rope_backward_q32_kv8_d128":
        rotate = reference_module(find("llama3_1_8b_rope_q32_kv8_d128").definition)._rotate
        # The rotation is linear, so its gradient does not depend on the point: differentiate it at zero.
        q = torch.zeros(inputs["grad_q_out"].shape, requires_grad=True)
        k = torch.zeros(inputs["grad_k_out"].shape, requires_grad=True)
        torch.autograd.backward(
            [rotate(q, inputs["cos"], inputs["sin"]), rotate(k, inputs["cos"], inputs["sin"])],
            [inputs["grad_q_out"].float(), inputs["grad_k_out"].float()],
        )
        return q.grad, k.grad
    if name == "llama3_1_8b_cross_entropy_backward_v128256":
        logits = leaf("logits")
        F.cross_entropy(logits, inputs["labels"], reduction="none").backward(inputs["grad_loss"])
        return (logits.grad,)
    if name == "qwen3_8b_fused_add_rmsnorm_backward_h4096":
        residual, weight = leaf("residual_out"), leaf("weight")
        output = F.rms_norm(residual, (residual.shape[-1],), weight, eps=1e-6)
        grads = [inputs["grad_output"].float(), inputs["grad_residual_out"].float()]
        torch.autograd.backward([output, residual * 1], grads)  # residual_out is an output too: its gradient adds
        return residual.grad, weight.grad
    if name == "llama3_2_1b_v_proj_linear_backward_n512_k2048":
        x, weight = leaf("x"), leaf("weight")
        F.linear(x, weight).backward(inputs["grad_output"].float())
        return x.grad, weight.grad
    raise LookupError(name)


BACKWARD_PROBLEMS = [
    "llama3_1_8b_attention_backward_causal_h32_kv8_d128",
    "llama3_1_8b_silu_and_mul_backward_i14336",
    "gemma2_9b_gelu_tanh_and_mul_backward_i14336",
    "llama3_1_8b_rope_backward_q32_kv8_d128",
    "llama3_1_8b_cross_entropy_backward_v128256",
    "qwen3_8b_fused_add_rmsnorm_backward_h4096",
    "llama3_2_1b_v_proj_linear_backward_n512_k2048",
]


@pytest.mark.parametrize("name", BACKWARD_PROBLEMS)
def test_backward_reference_equals_autograd(name: str) -> None:
    """Each backward reference is written out by hand; autograd on the forward must give the same gradients."""
    pytest.importorskip("torch")
    p = find(name)
    workload = cpu_workloads(p)[0]
    inputs = make_inputs(p.definition, workload)
    got = as_tuple(reference_module(p.definition).run(*inputs.values()))
    expected = _autograd_gradients(name, inputs)
    assert len(got) == len(expected) == len(p.definition.outputs)
    for spec, g, e in zip(p.definition.outputs, got, expected):
        assert_close(g, e.to(g.dtype), spec.dtype, workload.tolerance, f"{name}.{spec.name}")


def test_top_k_top_p_keeps_the_most_probable_tokens_up_to_the_mass() -> None:
    torch = pytest.importorskip("torch")
    p = find("llama3_1_8b_top_k_top_p_renorm_v128256")
    inputs = make_inputs(p.definition, p.workloads[0])
    probs = reference_module(p.definition).run(*inputs.values())
    assert torch.allclose(probs.sum(dim=-1), torch.ones(len(probs)))
    full = torch.softmax(inputs["logits"].float() / inputs["temperature"], dim=-1)
    for row, kept in zip(full, probs):
        chosen = kept > 0
        assert 1 <= int(chosen.sum()) <= inputs["top_k"] + 2  # ties at the k-th value stay together
        assert row[chosen].min() >= row[~chosen].max(), "a dropped token is more probable than a kept one"
        ordered = (row[chosen] / row[chosen].sum()).sort(descending=True).values  # before the top-p cut, within top-k
        kept_mass = kept[chosen].sort(descending=True).values
        assert torch.allclose(kept_mass, ordered / ordered.sum(), atol=1e-6)


RENORMS = sorted(p.stem if p.name != "definition.json" else p.parent.name for p in FILES
                 if "top_k_top_p_renorm" in str(p))  # fmt: skip
TOP_P_095 = {"qwen3_8b_top_k_top_p_renorm_v151936", "deepseek_r1_top_k_top_p_renorm_v129280"}


def _renorm_by_threshold(logits, temperature: float, top_k: int, top_p: float | None):
    """An honest renorm written another way (FlashInfer's: a threshold per row, sums in another order); ``top_p``
    None: the one of red-team round 73, fc01, that never applies top-p."""
    import torch

    z = logits.float() / temperature
    e = (z - z.amax(dim=-1, keepdim=True)).exp()
    probs = e / e.sum(dim=-1, keepdim=True)
    kth = probs.sort(dim=-1, descending=True).values[:, top_k - 1 : top_k]
    probs = torch.where(probs >= kth, probs, 0.0)
    probs = probs / probs.sum(dim=-1, keepdim=True)
    if top_p is None:
        return probs
    ordered = probs.sort(dim=-1, descending=True).values
    before = ordered.cumsum(dim=-1) - ordered
    threshold = torch.where(before < top_p, ordered, torch.inf).amin(dim=-1, keepdim=True)
    probs = torch.where(probs >= threshold, probs, 0.0)
    return probs / probs.sum(dim=-1, keepdim=True)


@pytest.mark.parametrize("name", RENORMS)
def test_top_k_top_p_tolerance_admits_an_honest_renorm_and_not_one_without_top_p(name: str) -> None:
    """Red-team round 73, fc01: nearly every element of a renorm is an exact zero, and top-p at 0.95 moves at most
    5 % of a row's mass, so a kernel that never applied top-p stayed under fp32's default relative L2 bound (0.053 to
    0.062). The problems' own bound, 0.01, holds it; an honest renorm another way is within 2e-7."""
    pytest.importorskip("torch")
    from pytest_solbench.worker.check import check_output, tolerance_for

    p = find(name)
    for workload in cpu_workloads(p)[:2]:
        inputs = make_inputs(p.definition, workload)
        expected = reference_module(p.definition).run(*inputs.values())
        logits, temperature, top_k, top_p = inputs.values()
        own = tolerance_for("float32", workload.tolerance)
        honest = _renorm_by_threshold(logits, temperature, top_k, top_p)
        assert check_output("probs", honest, expected, own, "float32")[1] is None, workload.axes
        lazy = _renorm_by_threshold(logits, temperature, top_k, None)
        assert check_output("probs", lazy, expected, own, "float32")[1] is not None, workload.axes
        if name in TOP_P_095:  # why these needed it: top_p 0.95 and a peaked top-k passed the default bound
            assert check_output("probs", lazy, expected, tolerance_for("float32"), "float32")[1] is None


def test_deepseek_router_picks_8_experts_from_4_groups() -> None:
    torch = pytest.importorskip("torch")
    p = find("deepseek_v3_moe_grouped_topk_router_e256_h7168")
    weights = reference_module(p.definition).run(*make_inputs(p.definition, p.workloads[2]).values())  # 64 tokens
    chosen = weights > 0
    assert (chosen.sum(dim=-1) == 8).all()
    assert (chosen.view(-1, 8, 32).any(dim=-1).sum(dim=-1) <= 4).all(), "experts from more than topk_group groups"
    assert torch.allclose(weights.sum(dim=-1), torch.full((len(weights),), 2.5))


def test_fp8_inputs_carry_real_scales() -> None:
    """Dequantized, the FP8 inputs reproduce Gaussian data within e4m3's precision, and the GEMM's outputs are O(1)."""
    torch = pytest.importorskip("torch")
    p = find("deepseek_v3_fp8_shared_expert_down_proj_n7168_k2048")
    ref = reference_module(p.definition)
    torch.manual_seed(0)
    x = torch.randn(3, 2048)
    values, scale = ref.quantize_blocks(x, 1, 128)
    assert values.dtype == torch.float8_e4m3fn and scale.shape == (3, 16)
    dequant = values.float() * scale.repeat_interleave(128, dim=1)
    assert (dequant - x).abs().max() <= 0.07 * x.abs().max()
    c = ref.run(*make_inputs(p.definition, cpu_workloads(p)[0]).values()).float()
    assert 0.3 < c.std() < 3, "outputs should be O(1) so that the bf16 tolerance means something"


def test_nvfp4_packing_puts_element_2i_in_the_low_nibble() -> None:
    torch = pytest.importorskip("torch")
    ref = reference_module(find("llama3_1_8b_nvfp4_o_proj_n4096_k4096").definition)
    packed = torch.tensor([[0x21, 0xF8]], dtype=torch.uint8).view(torch.float4_e2m1fn_x2)
    assert ref.unpack_fp4(packed).tolist() == [[0.5, 1.0, -0.0, -6.0]]
    torch.manual_seed(0)
    x = torch.randn(4, 4096)
    values, scale, global_scale = ref.quantize_nvfp4(x)
    assert values.shape == (4, 2048) and scale.shape == (4, 256) and scale.dtype == torch.float8_e4m3fn
    dequant = ref.dequantize(values, scale) / global_scale
    assert (dequant - x).abs().max() <= 0.35 * x.abs().max()  # e2m1 keeps one mantissa bit
    assert torch.corrcoef(torch.stack([dequant.flatten(), x.flatten()]))[0, 1] > 0.99


def test_paged_decode_inputs_are_valid_pages() -> None:
    torch = pytest.importorskip("torch")
    p = find("llama3_1_8b_gqa_paged_decode_h32_kv8_d128_ps16")
    for workload in cpu_workloads(p):
        axes = workload.axes
        inputs = make_inputs(p.definition, workload)
        seq_lens, table = inputs["seq_lens"].long(), inputs["block_table"].long()
        assert int(seq_lens.sum()) == axes["num_kv_tokens"] and int(seq_lens.min()) >= 1
        assert int(seq_lens.max()) <= axes["max_pages_per_seq"] * 16
        used = torch.cat([table[b, : (int(n) + 15) // 16] for b, n in enumerate(seq_lens)])
        assert len(set(used.tolist())) == len(used), "two sequences share a page"
        assert int(used.max()) < axes["num_pages"]


# ---------------------------------------------------------------- example kernels


def examples() -> list[tuple[str, Path, str | None]]:
    """(id, Python file, entry function or None) for every Python example: plain modules and solution.json folders."""
    found: list[tuple[str, Path, str | None]] = [(p.stem, p, None) for p in sorted(EXAMPLES.glob("*.py"))]
    for solution in sorted(EXAMPLES.glob("*/solution.json")):
        file, func = json.loads(solution.read_text())["spec"]["entry_point"].split("::")
        if file.endswith(".py"):
            found.append((solution.parent.name, solution.parent / file, func))
    return found


EXAMPLES_FOUND = examples()
EXAMPLE_IDS = [example_id for example_id, _, _ in EXAMPLES_FOUND]


def load_example(path: Path, func: str | None) -> tuple[str, Any, bool | None]:
    """(definition name, entry function, destination-passing style or None to infer it from the signature)."""
    module = load_module(path, f"_example_{path.parent.name}_{path.stem}")
    if func is None:
        return module.DEFINITION, module.run, None
    data = json.loads((path.parent / "solution.json").read_text())
    return data["definition"], getattr(module, func), data["spec"].get("destination_passing_style", True)


def check_example(path: Path, func: str | None, device: str, max_workloads: int | None) -> None:
    """Run an example kernel against its reference on `device`; an AssertionError says what differs."""
    import torch

    name, entry, dps = load_example(path, func)
    p = find(name)
    d = p.definition
    if dps is None:
        dps = len(inspect.signature(entry).parameters) == len(d.inputs) + len(d.outputs)
    workloads = cpu_workloads(p)[:max_workloads] if device == "cpu" else list(p.workloads)
    for workload in workloads:
        made = list(make_inputs(d, workload, seed=1, device=device).values())
        after = [v.clone() if torch.is_tensor(v) else v for v in made]  # the reference's, updated where it writes
        given = [v.clone() if torch.is_tensor(v) else v for v in made]  # the kernel's
        expected = as_tuple(reference_module(d).run(*after))
        if dps:
            outputs = tuple(torch.full_like(e, float("nan")) for e in expected)  # unwritten elements fail
            assert entry(*given, *outputs) is None, "a destination-passing kernel returns None"
        else:
            outputs = as_tuple(entry(*given))
        assert len(outputs) == len(d.outputs)
        for spec, got, want in zip(d.outputs, outputs, expected):
            assert_close(got, want, spec.dtype, workload.tolerance, f"{name}[{workload.label()}].{spec.name}")
        check_updated_inputs(d, workload, made, after, given)


def check_updated_inputs(d: Definition, workload: Workload, made: list, after: list, given: list) -> None:
    """The judge's in-place contract (worker.inplace): inputs the reference updates hold what it writes and nothing
    else; every other input is as made."""
    from pytest_solbench.data.inputs import changed
    from pytest_solbench.worker import inplace
    from pytest_solbench.worker.check import tolerance_for

    updated = inplace.find(reference_module(d).run, made, after, changed(made, after))
    assert changed(made, given) <= set(updated), f"{d.name}: the kernel changed {changed(made, given) - set(updated)}"
    for i, written in updated.items():
        spec = d.inputs[i]
        tolerance = tolerance_for(spec.dtype, workload.tolerance)
        _stats, fault = inplace.check(spec.name, given[i], made[i], written, tolerance, spec.dtype)
        why = fault.message if hasattr(fault, "rule") else fault.message() if fault is not None else ""
        assert fault is None, f"{d.name}[{workload.label()}].{spec.name}: {why}"


#: Above this many bytes in its smallest workload, an example is checked on that workload alone: the interpreter
#: loads some 20 million values a second, and a GEMM's weight alone is 14-48 MiB.
CPU_ONE_WORKLOAD_BYTES = 8 * 2**20


def cpu_workload_count(path: Path, func: str | None) -> int:
    """How many of its problem's smallest workloads an example runs on CPU: two, or one for the heavy ones."""
    p = find(load_example(path, func)[0])
    return 1 if workload_bytes(p.definition, cpu_workloads(p)[0]) > CPU_ONE_WORKLOAD_BYTES else 2


def check_examples_on_cpu() -> dict[str, str]:
    """Every Python example on its problem's smallest workloads: example id -> "" or what went wrong."""
    results = {}
    for example_id, path, func in EXAMPLES_FOUND:
        try:
            check_example(path, func, "cpu", max_workloads=cpu_workload_count(path, func))
            results[example_id] = ""
        except Exception as exc:  # reported to the parent test, which fails with it
            results[example_id] = "".join(traceback.format_exception(exc)[-6:])
    return results


#: What the examples' CPU run publishes when it could not check them: the reason, under this key.
ERROR_KEY = "(the run itself)"
#: The run, in a fresh Python with TRITON_INTERPRET=1 set from the start; it publishes its results by an atomic
#: rename, so a reader sees all of them or none.
_RUN_EXAMPLES = """
import json, os, sys, traceback
sys.path.insert(0, sys.argv[1])
try:
    import test_library
    results = test_library.check_examples_on_cpu()
except BaseException:
    results = {%r: traceback.format_exc()[-3000:]}
part = sys.argv[2] + f".{os.getpid()}.part"
with open(part, "w") as f:
    json.dump(results, f)
os.replace(part, sys.argv[2])
""" % ERROR_KEY


def _examples_results_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file per test run: under xdist each worker's base temp is <run>/popen-gwN, so the run's is its parent."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "example_results.json"


@pytest.fixture(scope="module", autouse=True)
def _examples_checked_in_the_background(request: pytest.FixtureRequest,
                                        tmp_path_factory: pytest.TempPathFactory) -> Any:  # fmt: skip
    """The examples' CPU check takes about 45 s: it starts when this module's first test runs, once per test run
    (the first xdist worker to claim it starts it), and runs beside the other tests until its results are read."""
    wanted = any("cpu_example_results" in getattr(item, "fixturenames", ()) for item in request.session.items)
    if not wanted or importlib.util.find_spec("torch") is None or importlib.util.find_spec("triton") is None:
        yield
        return
    results = _examples_results_path(tmp_path_factory)
    try:
        os.close(os.open(results.with_suffix(".claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:  # another worker of this run started it
        yield
        return
    env = {**os.environ, "TRITON_INTERPRET": "1", "CUDA_VISIBLE_DEVICES": ""}
    with open(results.with_suffix(".log"), "w") as log:
        run = subprocess.Popen([sys.executable, "-c", _RUN_EXAMPLES, str(Path(__file__).parent), str(results)],
                               stdout=log, stderr=subprocess.STDOUT, env=env)  # fmt: skip
    yield
    try:  # the other workers may still read the results: they outlive this module only as a file
        run.wait(timeout=600)
    except subprocess.TimeoutExpired:
        run.kill()
        run.wait()


@pytest.fixture(scope="module")
def cpu_example_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The results of the examples' CPU check started in the background, once per test run."""
    pytest.importorskip("torch")
    pytest.importorskip("triton")
    path = _examples_results_path(tmp_path_factory)
    results = _wait_for_json(path, limit_s=900)
    if ERROR_KEY in results:
        pytest.fail(f"the examples' CPU run did not finish:\n{results[ERROR_KEY]}")
    return results


def _wait_for_json(path: Path, limit_s: float) -> dict[str, str]:
    import time

    deadline = time.monotonic() + limit_s
    while not path.exists():
        if time.monotonic() > deadline:
            log = path.with_suffix(".log")
            tail = log.read_text()[-3000:] if log.exists() else "(no log)"
            return {ERROR_KEY: f"no results at {path} after {limit_s:g} s; its log ends:\n{tail}"}
        time.sleep(0.5)
    return json.loads(path.read_text())


@pytest.mark.parametrize("example_id", EXAMPLE_IDS)
def test_example_kernel_matches_its_reference_on_cpu(example_id: str, cpu_example_results: dict[str, str]) -> None:
    assert example_id in cpu_example_results
    assert cpu_example_results[example_id] == "", f"{example_id}:\n{cpu_example_results[example_id]}"


@pytest.mark.parametrize(("path", "func"), [(p, f) for _, p, f in EXAMPLES_FOUND], ids=EXAMPLE_IDS)
def test_example_kernel_matches_its_reference_on_gpu(path: Path, func: str | None) -> None:
    """On a GPU machine: every workload of the example's problem, with Triton compiling (not interpreting)."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available() or os.environ.get("TRITON_INTERPRET") == "1":
        pytest.skip("needs a CUDA GPU with TRITON_INTERPRET unset")
    check_example(path, func, "cuda", max_workloads=None)


def test_every_example_solves_a_bundled_problem() -> None:
    names = {load_problem(p).definition.name for p in FILES}
    for _, path, func in EXAMPLES_FOUND:
        source = path.read_text()
        assert "def run(" in source, path.name
        if func is None:
            assert "\nDEFINITION = " in source, f"{path.name}: needs DEFINITION = '<problem name>'"
            declared = source.split("\nDEFINITION = ", 1)[1].split("\n", 1)[0].strip("\"'")
            assert declared in names, f"{path.name}: unknown definition {declared!r}"
    solutions = sorted(EXAMPLES.glob("*/solution.json"))
    assert [s.parent.name for s in solutions] == ["cuda_fused_add_rmsnorm", "cuda_rmsnorm", "rope_solution"]
    for solution in solutions:
        data = json.loads(solution.read_text())
        assert {"name", "definition", "author", "spec", "sources"} <= set(data), solution
        assert data["definition"] in names, f"{solution}: unknown definition {data['definition']!r}"
        file, _ = data["spec"]["entry_point"].split("::")
        assert file in [s["path"] for s in data["sources"]], "sources name the entry file"
        for source in data["sources"]:
            assert (solution.parent / source["path"]).is_file(), f"{solution}: {source['path']} is missing beside it"


CUDA_SOLUTIONS = [
    s for s in sorted(EXAMPLES.glob("*/solution.json")) if json.loads(s.read_text())["spec"]["languages"] == ["cuda_cpp"]
]
CUDA_IDS = [s.parent.name for s in CUDA_SOLUTIONS]


@pytest.mark.parametrize("solution", CUDA_SOLUTIONS, ids=CUDA_IDS)
def test_cuda_example_declares_a_torch_binding(solution: Path) -> None:
    """binding.cpp binds run() through pybind11 with the definition's inputs then outputs, as torch builds it; the
    .cu file beside it holds the kernel and no torch header (nvcc compiles it in seconds, the binding builds beside it
    in parallel)."""
    data = json.loads(solution.read_text())
    spec = data["spec"]
    assert spec["binding"] == "torch" and spec["entry_point"] == "binding.cpp::run" and spec["destination_passing_style"]
    source = (solution.parent / "binding.cpp").read_text()
    assert "PYBIND11_MODULE(TORCH_EXTENSION_NAME" in source and 'm.def("run"' in source
    assert "#include <torch" not in (solution.parent / "kernel.cu").read_text() and "__global__" not in source
    d = find(data["definition"]).definition
    params = ", ".join(f"torch::Tensor {s.name}" for s in d.inputs + d.outputs)
    assert f"void run({params})" in " ".join(source.split()).replace("( ", "("), f"{solution.parent.name}: run({params})"


def test_cuda_examples_include_the_fused_add_rmsnorm() -> None:
    assert {"cuda_rmsnorm", "cuda_fused_add_rmsnorm"} <= set(CUDA_IDS)


@pytest.mark.parametrize("solution", CUDA_SOLUTIONS, ids=CUDA_IDS)
def test_cuda_example_matches_its_reference_on_gpu(solution: Path) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("the CUDA examples build and run only on a GPU machine")
    from torch.utils.cpp_extension import load

    sources = [str(solution.parent / s["path"]) for s in json.loads(solution.read_text())["sources"]]
    module = load(name=f"solbench_example_{solution.parent.name}", sources=sources)
    p = find(json.loads(solution.read_text())["definition"])
    for workload in p.workloads:
        inputs = list(make_inputs(p.definition, workload, device="cuda").values())
        expected = as_tuple(reference_module(p.definition).run(*inputs))
        outputs = tuple(torch.full_like(e, float("nan")) for e in expected)
        module.run(*inputs, *outputs)
        for spec, got, want in zip(p.definition.outputs, outputs, expected):
            assert_close(got, want, spec.dtype, workload.tolerance, f"{solution.parent.name}[{workload.label()}]")

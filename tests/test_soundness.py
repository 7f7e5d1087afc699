"""The library's bounds are lower bounds: no workload's bound asks for more than an ideal kernel must do.

Hand counts are computed here from the shapes and, for routed experts, from the routing the timed inputs carry, never
from the plugin's own counters: MoE grouped GEMMs move the experts some row reaches; causal attention and the SSD
chunk scan multiply over the kept triangle. Then, over every workload of the library: bytes never above every input
read once and every output written once, a FLOP formula never above what the reference itself computes, a byte
formula never above what the reference touches on real inputs, and every hand-built triangular mask has a hand count.
Everything runs on meta tensors or small real inputs, so this is CI.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from pytest_solbench.data.kernels import reference_namespace  # noqa: E402
from pytest_solbench.data.trace import is_problem_file, load_problem  # noqa: E402
from pytest_solbench.sol import bound as sol  # noqa: E402
from pytest_solbench.sol.facts import Facts  # noqa: E402
from pytest_solbench.sol.flops import count_flops  # noqa: E402
from pytest_solbench.sol.hardware import lookup  # noqa: E402
from pytest_solbench.sol.touched import input_bytes, touched_bytes  # noqa: E402
from pytest_solbench.worker.rounds import TIMED_ROUND, make_problem_inputs, round_seed  # noqa: E402

LIBRARY = Path(__file__).resolve().parent.parent / "problems"
PROBLEMS = sorted(p for p in LIBRARY.rglob("*.json") if is_problem_file(p))
MOE = sorted(p for p in PROBLEMS if "moe" in p.parent.name and "grouped_gemm" in p.parent.name)
H100 = lookup("h100_sxm")
SEED = 0  # the plugin's default --solbench-seed


def _id(path: Path) -> str:
    return path.parent.name if path.name == "definition.json" else path.stem


def _routing(problem, workload, seed: int = SEED):
    """The expert offsets of the timed inputs: make_inputs draws them first, right after the round's seed."""
    namespace = reference_namespace(problem.definition)
    torch.manual_seed(round_seed(seed, workload.uuid, TIMED_ROUND))
    return namespace["expert_offsets_for"](workload.axes["num_rows"], workload.axes["num_experts"], "cpu")


def _hand_bytes(definition, axes: dict[str, int], used: int) -> float:
    """Rows and their scales whole, each routed expert's weights, scales and alpha, the offsets, the output."""
    total = 0.0
    for spec in (*definition.inputs, *definition.outputs):
        whole = sol.bytes_of(definition.shape_of(spec, axes), spec.dtype)
        total += whole * used / axes["num_experts"] if spec.shape and spec.shape[0] == "num_experts" else whole
    return total


def _plugin_work(problem, workload, offsets) -> sol.Work:
    """The bound as the worker finds it, with the real routing and meta tensors for everything else."""
    definition = problem.definition
    axes = definition.axis_values(workload.axes)
    args = [offsets if spec.name == "expert_offsets" else arg for spec, arg in
            zip(definition.inputs, sol.meta_args(definition, axes))]  # fmt: skip
    run = definition.positional_reference(reference_namespace(definition)["run"])
    return sol.work_for(definition, axes, touched=input_bytes(definition, touched_bytes(run, args)))


@pytest.mark.parametrize("path", MOE, ids=_id)
def test_moe_bytes_equal_the_hand_count_on_the_timed_routing(path: Path) -> None:
    problem = load_problem(path)
    definition = problem.definition
    # Where rows are many per expert every expert is reached and the bytes are every input once, checked below for
    # every workload; the hand count matters where routing leaves experts out.
    for workload in [w for w in problem.workloads if w.axes["num_rows"] <= 4 * w.axes["num_experts"]]:
        axes = definition.axis_values(workload.axes)
        offsets = _routing(problem, workload)
        used = int((offsets[1:] > offsets[:-1]).sum())
        work = _plugin_work(problem, workload, offsets)
        assert work.bytes_moved == pytest.approx(_hand_bytes(definition, axes, used), rel=0.02), workload.label()
        assert work.flops == 2 * axes["num_rows"] * axes["n"] * axes["k"]


@pytest.mark.parametrize("path", MOE, ids=_id)
def test_the_routing_reproduced_is_the_one_the_inputs_carry(path: Path) -> None:
    problem = load_problem(path)
    workload = min(problem.workloads, key=lambda w: w.axes["num_experts"] * 1_000_000 + w.axes["num_rows"])
    axes = problem.definition.axis_values(workload.axes)
    made = make_problem_inputs(problem, workload, axes, round_seed(SEED, workload.uuid, TIMED_ROUND), "cpu")
    assert torch.equal(made[-1], _routing(problem, workload))


# The issue's hand counts: T_SOL on an H100 SXM before (every expert) over after (the routed ones), at decode.
MOE_DECODE_RATIOS = {
    "qwen3_next_80b_a3b_nvfp4_moe_down_grouped_gemm_n2048_k512": (10, 512, 51),
    "deepseek_r1_nvfp4_moe_down_grouped_gemm_tp8_n7168_k256": (8, 256, 32),
    "qwen3_30b_a3b_moe_down_grouped_gemm_n2048_k768": (8, 128, 16),
    "qwen3_30b_a3b_fp8_moe_gate_up_grouped_gemm_n1536_k2048": (8, 128, 16),
    "qwen3_30b_a3b_nvfp4_moe_down_grouped_gemm_n2048_k768": (8, 128, 16),
}


@pytest.mark.parametrize("name", sorted(MOE_DECODE_RATIOS))
def test_moe_decode_bounds_drop_by_the_experts_left_out(name: str) -> None:
    rows, experts, issue_ratio = MOE_DECODE_RATIOS[name]
    problem = load_problem(LIBRARY / name / "definition.json")
    workload = next(w for w in problem.workloads if w.axes == {"num_rows": rows, "num_experts": experts})
    offsets = _routing(problem, workload)
    used = int((offsets[1:] > offsets[:-1]).sum())
    before = sol.sol_bound(Facts().of(problem, workload).work, H100).t_sol_ms  # provisional: every expert
    after = sol.sol_bound(_plugin_work(problem, workload, offsets), H100).t_sol_ms
    # The issue counted `rows` distinct experts; the timed routing may put two rows on one expert.
    assert before / after == pytest.approx(issue_ratio * rows / used, rel=0.1)


def _pairs(s: int) -> int:
    return s * (s + 1) // 2


CAUSAL = {  # name -> hand count of the kept triangle from the axes
    "llama3_1_8b_attention_backward_causal_h32_kv8_d128":
        lambda a: a["batch_size"] * a["num_qo_heads"] * _pairs(a["seq_len"]) * 2 * 5 * a["head_dim"],
    "llama3_1_70b_gqa_prefill_causal_h64_kv8_d128":
        lambda a: a["batch_size"] * a["num_qo_heads"] * _pairs(a["seq_len"]) * 2 * 2 * a["head_dim"],
    "mamba2_2_7b_ssd_chunk_scan_h80_p64_n128":
        lambda a: a["batch_size"] * (a["seq_len"] // a["chunk_size"]) * (
            2 * _pairs(a["chunk_size"]) * (a["n_groups"] * a["d_state"] + a["n_heads"] * a["head_dim"])
            + 2 * 2 * a["chunk_size"] * a["n_heads"] * a["head_dim"] * a["d_state"]),
}  # fmt: skip
# The issue's ratios of what the reference computes (the plugin's count before) to the triangle, per workload axes.
CAUSAL_RATIOS = {
    "llama3_1_8b_attention_backward_causal_h32_kv8_d128": {(1, 2048): 2.0, (8, 2048): 2.0, (1, 4096): 2.0,
                                                            (2, 4096): 2.0, (1, 8192): 2.0},
    "llama3_1_70b_gqa_prefill_causal_h64_kv8_d128": {(8, 1024): 2.0, (1, 2048): 1.5, (1, 4096): 1.25},
    "mamba2_2_7b_ssd_chunk_scan_h80_p64_n128": {(1, 2048): 1.34, (8, 8192): 1.34},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CAUSAL))
def test_causal_flops_equal_the_kept_triangle(name: str) -> None:
    problem = load_problem(LIBRARY / name / "definition.json")
    definition, facts = problem.definition, Facts()
    for workload in problem.workloads:
        axes = definition.axis_values(workload.axes)
        assert facts.of(problem, workload).work.flops == pytest.approx(CAUSAL[name](axes), rel=0.02), workload.label()


@pytest.mark.parametrize("name", sorted(CAUSAL_RATIOS))
def test_the_reference_computes_the_square_the_issue_measured(name: str) -> None:
    """What the reference's own count gives (the plugin's bound before) over the triangle: the issue's ratios."""
    problem = load_problem(LIBRARY / name / "definition.json")
    definition = problem.definition
    run = definition.positional_reference(reference_namespace(definition)["run"])
    for workload in problem.workloads:
        key = (workload.axes["batch_size"], workload.axes["seq_len"])
        if key not in CAUSAL_RATIOS[name]:
            continue
        axes = definition.axis_values(workload.axes)
        scalars = {n: s.value for n, s in workload.inputs.items() if s.kind == "scalar"}
        square = sum(count_flops(run, sol.meta_args(definition, axes, scalars)).values())
        assert square / CAUSAL[name](axes) == pytest.approx(CAUSAL_RATIOS[name][key], rel=0.02), key


# ---------------------------------------------------------------- every workload of the library

_HAND_BUILT_MASK = re.compile(r"\.tril\(|\.triu\(|torch\.tril|torch\.triu|arange\(.*\)\[.*\] *[<>]")


@pytest.mark.parametrize("path", PROBLEMS, ids=_id)
def test_no_bound_asks_for_more_than_an_ideal_kernel_needs(path: Path) -> None:
    problem = load_problem(path)
    definition, facts = problem.definition, Facts()
    reference = definition.reference or ""
    if _HAND_BUILT_MASK.search(reference) and "masked_fill" in reference:
        assert definition.name in CAUSAL, "a hand-built triangular mask: count the kept triangle (a sol formula) here"
    for workload in problem.workloads:
        known = facts.of(problem, workload)
        assert known.work is not None, known.work_error
        assert known.work.bytes_moved <= sol.io_bytes(definition, known.axis_values) * (1 + 1e-9), workload.label()
    if "flops" not in (definition.sol or {}):
        return  # counted from the reference itself
    # A FLOP formula never claims more than the reference computes (on its smallest workload: a formula is one
    # expression in the axes, and the reference's count is a few seconds for a long sequential scan).
    workload = min(problem.workloads, key=lambda w: facts.of(problem, w).largest_growing_elements)
    known = facts.of(problem, workload)
    scalars = {n: s.value for n, s in workload.inputs.items() if s.kind == "scalar"}
    run = definition.positional_reference(reference_namespace(definition)["run"])
    try:
        counted = count_flops(run, sol.meta_args(definition, known.axis_values, scalars))
    except Exception:  # needs data (offsets, block tables): the hand counts above check those formulas
        return
    assert known.work.flops <= sum(counted.values()) * 1.001, (workload.label(), known.work.flops, counted)


def _gathers(path: Path) -> bool:
    """A byte formula over a reference that takes indices: what it reads follows the data."""
    definition = load_problem(path).definition
    indices = any(s.shape is not None and s.dtype.startswith(("int", "uint")) for s in definition.inputs)
    return "bytes" in (definition.sol or {}) and indices


GATHERS = sorted(p for p in PROBLEMS if _gathers(p))


@pytest.mark.parametrize("path", GATHERS, ids=_id)
def test_a_byte_formula_never_exceeds_what_the_reference_touches(path: Path) -> None:
    """On the smallest workload's real inputs: what the formula says must be read is read by the reference."""
    problem = load_problem(path)
    definition, facts = problem.definition, Facts()
    workload = min(problem.workloads, key=lambda w: facts.of(problem, w).largest_growing_elements)
    axes = definition.axis_values(workload.axes)
    if facts.of(problem, workload).largest_growing_elements > 1 << 24:
        pytest.skip("the smallest workload is too large to make on the CPU")
    args = make_problem_inputs(problem, workload, axes, round_seed(SEED, workload.uuid, TIMED_ROUND), "cpu")
    run = definition.positional_reference(reference_namespace(definition)["run"])
    touched = sol.touched_io_bytes(definition, axes, input_bytes(definition, touched_bytes(run, args)))
    assert facts.of(problem, workload).work.bytes_moved <= touched * (1 + 1e-9), workload.label()

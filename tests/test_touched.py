"""Bytes from the data (sol/touched.py): a reference that reads part of an input is bounded by what it reads.

One test per mechanism (views, empty operands, each gather, dead work, host-read integers, meta weights beside real
routing), then the way the bytes travel: facts, the worker's outcome, the pytest record and --solbench-bounds-only."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from conftest import FAST, write_problem  # noqa: E402

from pytest_solbench.sol.touched import input_bytes, touched_bytes  # noqa: E402


def grouped(a, b, offsets):
    """A grouped GEMM as the library's MoE references write it: every expert sliced, its rows multiplied."""
    bounds = offsets.tolist()
    return torch.cat([a[bounds[e] : bounds[e + 1]] @ b[e].t() for e in range(b.shape[0])])


def test_a_grouped_gemm_reads_only_the_experts_some_row_is_routed_to() -> None:
    a, b = torch.randn(8, 16), torch.randn(5, 32, 16)
    offsets = torch.tensor([0, 3, 3, 8, 8, 8], dtype=torch.int32)  # experts 0 and 2 have rows; 1, 3, 4 none
    touched = touched_bytes(grouped, [a, b, offsets])
    assert touched == {0: 8 * 16 * 4, 1: 2 * 32 * 16 * 4, 2: 6 * 4}


def test_an_empty_operand_is_no_read_and_an_empty_result_reads_nothing() -> None:
    b = torch.randn(4, 4)
    assert touched_bytes(lambda a, b: torch.cat([a @ b, b.sum(0, keepdim=True)]), [torch.randn(0, 4), b]) == {
        0: 0.0, 1: 64.0}  # fmt: skip
    assert touched_bytes(lambda a, b: (a @ b, b[:1] * 2)[1], [torch.randn(0, 4), b]) == {0: 0.0, 1: 16.0}


@pytest.mark.parametrize(
    "gather",
    [
        lambda w, i: torch.nn.functional.embedding(i, w),
        lambda w, i: w[i] * 2,
        lambda w, i: w.index_select(0, i),
        lambda w, i: torch.gather(w, 0, i[:, None].expand(-1, w.shape[1])),
    ],
    ids=["embedding", "index", "index_select", "gather"],
)
def test_a_gather_reads_the_rows_its_indices_name(gather) -> None:
    table, ids = torch.randn(100, 16), torch.tensor([1, 5, 5, 7])
    assert touched_bytes(gather, [table, ids]) == {0: 3 * 16 * 4, 1: 4 * 8}


def test_indexing_a_later_dimension_and_a_boolean_mask() -> None:
    table, ids = torch.randn(10, 20), torch.tensor([0, 3])
    assert touched_bytes(lambda w, i: w[:, i], [table, ids])[0] == 10 * 2 * 4
    mask = torch.zeros(10, dtype=torch.bool)
    mask[[2, 4, 6]] = True
    assert touched_bytes(lambda w, m: w[m], [table, mask]) == {0: 3 * 20 * 4, 1: 10}


def test_a_paged_cache_reads_the_pages_of_its_block_table() -> None:
    cache = torch.randn(64, 16, 8)  # 64 pages of 16 tokens
    table = torch.tensor([[3, 9, 0, 0], [5, 0, 0, 0]], dtype=torch.int32)
    lens = torch.tensor([20, 7], dtype=torch.int32)

    def decode(cache, table, lens):
        outs = []
        for b in range(table.shape[0]):
            n = int(lens[b])
            pages = table[b, : (n + 15) // 16].long()
            outs.append(cache[pages].reshape(-1, 8)[:n].sum(0))
        return torch.stack(outs)

    touched = touched_bytes(decode, [cache, table, lens])
    assert touched[0] == 3 * 16 * 8 * 4  # pages 3, 9 and 5, whole pages as the reference gathers them
    assert touched[1] == 3 * 4  # the block table entries it sliced
    assert touched[2] == 2 * 4


def test_dead_work_reads_nothing_and_unused_floats_count_zero() -> None:
    x, y, z = torch.randn(50), torch.randn(50), torch.randn(50)

    def fn(x, y, z):
        _ = (y * 2).sum()  # computed, never returned
        return x + 1

    assert touched_bytes(fn, [x, y, z]) == {0: 200.0, 1: 0.0, 2: 0.0}


def test_integers_read_on_the_host_count_whole() -> None:
    offsets = torch.tensor([0, 2, 4], dtype=torch.int64)
    assert touched_bytes(lambda x, o: x[o.tolist()[1] :] * 1, [torch.randn(4), offsets]) == {0: 8.0, 1: 24.0}


def test_meta_weights_beside_real_routing_need_no_data() -> None:
    a = torch.empty(8, 16, device="meta")
    b = torch.empty(1024, 4096, 16, device="meta")  # 256 MiB if it were real
    offsets = torch.tensor([0] * 500 + [4] * 300 + [8] * 225, dtype=torch.int32)  # experts 499 and 799 have rows
    touched = touched_bytes(grouped, [a, b, offsets])
    assert touched[1] == 2 * 4096 * 16 * 4


# ---------------------------------------------------------------- how the bytes travel

MOE = {
    "name": "toy_moe",
    "op_type": "grouped_gemm",
    "description": "a tiny grouped GEMM whose rows reach few experts",
    "tags": ["model:toy", "stage:forward"],
    "axes": {"num_rows": {"type": "var"}, "num_experts": {"type": "var"}, "n": {"type": "const", "value": 32},
             "k": {"type": "const", "value": 16}, "num_offsets": {"type": "expr", "expression": "num_experts + 1"}},
    "inputs": {"a": {"shape": ["num_rows", "k"], "dtype": "float32"},
               "b": {"shape": ["num_experts", "n", "k"], "dtype": "float32"},
               "offsets": {"shape": ["num_offsets"], "dtype": "int32"}},
    "outputs": {"c": {"shape": ["num_rows", "n"], "dtype": "float32"}},
    "custom_inputs_entrypoint": "make_inputs",
    "sol": {"flops": {"float32": "2 * num_rows * n * k"}},
}  # fmt: skip
MOE_REFERENCE = """import torch

def run(a, b, offsets):
    bounds = offsets.tolist()
    return torch.cat([a[bounds[e] : bounds[e + 1]] @ b[e].t() for e in range(b.shape[0])])

def make_inputs(axes, device):
    rows, experts = axes["num_rows"], axes["num_experts"]
    counts = torch.bincount(torch.randint(0, experts, (rows,)), minlength=experts)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)]).to(torch.int32)
    return {"a": torch.randn(rows, 16), "b": torch.randn(experts, 32, 16), "offsets": offsets}
"""
MOE_WORKLOADS = [{"uuid": "decode", "axes": {"num_rows": 3, "num_experts": 64},
                  "inputs": {n: {"type": "custom"} for n in ("a", "b", "offsets")}}]  # fmt: skip


def _routed_bytes(problem_root, seed: int) -> float:
    """The hand count on the routing the timed inputs carry: rows, routed experts, offsets, the output."""
    from pytest_solbench.data.trace import load_problem
    from pytest_solbench.worker.rounds import TIMED_ROUND, make_problem_inputs, round_seed

    problem = load_problem(problem_root / "toy_moe" / "definition.json")
    workload = problem.workloads[0]
    axes = problem.definition.axis_values(workload.axes)
    _, _, offsets = make_problem_inputs(problem, workload, axes, round_seed(seed, "decode", TIMED_ROUND), "cpu")
    used = int((offsets[1:] > offsets[:-1]).sum())
    return 3 * 16 * 4 + used * 32 * 16 * 4 + 65 * 4 + 3 * 32 * 4


def test_facts_start_provisional_and_learn_the_touched_bytes(tmp_path) -> None:
    from pytest_solbench.data.trace import load_problem
    from pytest_solbench.sol.facts import Facts

    write_problem(tmp_path, definition=MOE, reference=MOE_REFERENCE, workloads=MOE_WORKLOADS)
    problem = load_problem(tmp_path / "toy_moe" / "definition.json")
    facts = Facts()
    first = facts.of(problem, problem.workloads[0])
    assert first.bytes_provisional and first.work.source == "flops-formula+bytes-io"
    learned = facts.learn_touched(problem, problem.workloads[0], {"a": 192.0, "b": 2048.0, "offsets": 260.0})
    assert not learned.bytes_provisional and learned.work.source == "flops-formula+bytes-touched"
    assert learned.work.bytes_moved == 192 + 2048 + 260 + 3 * 32 * 4
    assert learned.work.flops == first.work.flops


@pytest.mark.parametrize("mode", ["items", "bounds-only"])
def test_the_record_carries_the_bytes_the_timed_routing_reaches(pytester: pytest.Pytester, mode: str) -> None:
    write_problem(pytester.path / "problems", definition=MOE, reference=MOE_REFERENCE, workloads=MOE_WORKLOADS)
    pytester.makeini("[pytest]\nsolbench_problems = problems\n")
    extra = ["--solbench-bounds-only"] if mode == "bounds-only" else []
    result = pytester.runpytest(*FAST, "--solbench-seed", "3", "--solbench-json", "r.jsonl", *extra)
    result.assert_outcomes(passed=1)
    record = json.loads((pytester.path / "r.jsonl").read_text().splitlines()[0])["solbench"]
    everything = 3 * 16 * 4 + 64 * 32 * 16 * 4 + 65 * 4 + 3 * 32 * 4
    assert record["bytes_moved"] == _routed_bytes(pytester.path / "problems", 3) < everything / 16


def test_input_bytes_names_the_inputs_and_leaves_scalars_out(tmp_path) -> None:
    from pytest_solbench.data.trace import load_problem

    write_problem(tmp_path, definition=MOE, reference=MOE_REFERENCE, workloads=MOE_WORKLOADS)
    definition = load_problem(tmp_path / "toy_moe" / "definition.json").definition
    assert input_bytes(definition, {0: 1.0, 1: 2.0, 2: 3.0, 3: 9.0}) == {"a": 1.0, "b": 2.0, "offsets": 3.0}


def test_bounds_only_says_the_bytes_are_provisional_when_the_inputs_are_too_large_to_see(
        pytester: pytest.Pytester) -> None:  # fmt: skip
    write_problem(pytester.path / "problems", definition=MOE, reference=MOE_REFERENCE, workloads=MOE_WORKLOADS)
    pytester.makeini("[pytest]\nsolbench_problems = problems\n")
    result = pytester.runpytest(*FAST, "--solbench-bounds-only", "--solbench-cpu-max-elements", "10",
                                "--solbench-json", "r.jsonl")  # fmt: skip
    result.assert_outcomes(passed=1)
    record = json.loads((pytester.path / "r.jsonl").read_text().splitlines()[0])["solbench"]
    assert record["bytes_moved"] == 3 * 16 * 4 + 64 * 32 * 16 * 4 + 65 * 4 + 3 * 32 * 4  # every expert, for now
    line = json.loads((pytester.path / "r.jsonl").read_text().splitlines()[0])
    assert "bytes provisional" in line["evaluation"]["log"]

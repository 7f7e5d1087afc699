"""The KV-cache append and embedding problems, and the in-place contract they rest on (``worker.inplace``).

The appends return nothing and update their caches in place, as the engines' kernels do; the judge holds each
cache to what the reference writes there and to its bytes everywhere else. Here: the contract on its own (which
elements count as written, what passes and what fails), each problem's reference against an independent
statement of it, their bounds (the slots written, the rows looked up, never the pool or the table), and a Triton
kernel and four cheats through the plugin.
"""

from __future__ import annotations

import json
import shutil

import pytest

from test_library import ROOT, cpu_workloads, find, make_inputs, reference_module

torch = pytest.importorskip("torch")

from pytest_solbench.data.inputs import changed  # noqa: E402
from pytest_solbench.guard.tripwires import Trip  # noqa: E402
from pytest_solbench.sol import bound as sol  # noqa: E402
from pytest_solbench.sol.facts import Facts  # noqa: E402
from pytest_solbench.sol.touched import input_bytes, touched_bytes  # noqa: E402
from pytest_solbench.worker import inplace  # noqa: E402
from pytest_solbench.worker.check import Mismatch, tolerance_for  # noqa: E402

LLAMA_APPEND = "llama3_1_8b_paged_kv_append_kv8_d128_ps16"
FP8_APPEND = "llama3_1_70b_fp8_kv_paged_append_tp8_kv1_d128_ps16"
MLA_APPEND = "deepseek_v3_mla_paged_kv_append_ckv512_kpe64_ps64"
APPENDS = [LLAMA_APPEND, "qwen3_32b_paged_kv_append_kv8_d128_ps1", FP8_APPEND, MLA_APPEND]
EMBEDDINGS = ["llama3_1_8b_embedding_v128256_h4096", "qwen3_32b_embedding_v151936_h5120",
              "deepseek_v3_embedding_v129280_h7168"]  # fmt: skip
EMBEDDING_BACKWARD = "llama3_1_8b_embedding_backward_v128256_h4096"


def _append(cache, slots, rows):
    cache[slots] = rows


# ---------------------------------------------------------------- the contract on its own


def test_written_elements_include_a_slot_written_with_the_value_it_held() -> None:
    """Found by the second run on a bitwise complement: a write of an unchanged value still counts as a write."""
    cache, rows = torch.randn(6, 4), torch.randn(2, 4)
    rows[1] = cache[4]  # slot 4 is written with what it already holds
    slots = torch.tensor([1, 4])
    after = [cache.clone(), slots, rows]
    _append(*after)
    updated = inplace.find(_append, [cache, slots, rows], after, changed([cache, slots, rows], after))
    assert set(updated) == {0}
    assert updated[0].mask.all(dim=1).tolist() == [False, True, False, False, True, False]
    assert not updated[0].mask[[0, 2, 3, 5]].any()


def _updated(cache, slots, rows):
    after = [cache.clone(), slots, rows]
    _append(*after)
    return inplace.find(_append, [cache, slots, rows], after, {0})[0]


def test_a_kernel_is_held_to_the_written_slots_and_to_the_bytes_everywhere_else() -> None:
    cache, rows, slots = torch.randn(8, 16, dtype=torch.bfloat16), torch.randn(3, 16, dtype=torch.bfloat16), \
        torch.tensor([6, 0, 3])  # fmt: skip
    written = _updated(cache, slots, rows)
    tol = tolerance_for("bfloat16")
    honest = cache.clone()
    honest[slots] = rows
    assert inplace.check("k_cache", honest, cache, written, tol, "bfloat16")[1] is None

    spilled = honest.clone()
    spilled[7, 5] += 1  # one element outside the slots
    _stats, fault = inplace.check("k_cache", spilled, cache, written, tol, "bfloat16")
    assert isinstance(fault, Trip) and fault.rule == "input-mutation"
    assert "1 element(s) of its input 'k_cache'" in fault.message and "(7, 5)" in fault.message

    lazy = cache.clone()
    lazy[slots[:2]] = rows[:2]  # the third slot never written
    _stats, fault = inplace.check("k_cache", lazy, cache, written, tol, "bfloat16")
    assert isinstance(fault, Mismatch) and fault.max_abs_index[0] == 3, fault.message()  # an index into the cache

    replaced = inplace.check("k_cache", honest.float(), cache, written, tol, "bfloat16")[1]
    assert isinstance(replaced, Trip) and "replaced" in replaced.message


def test_an_e4m3_cache_may_differ_by_a_rounding_step_where_it_is_written_and_by_nothing_elsewhere() -> None:
    fp8 = torch.float8_e4m3fn
    cache = (torch.randn(64, 32) * 50).to(fp8)
    rows = torch.randn(16, 32) * 50
    slots = torch.randperm(64)[:16]
    written = _updated(cache, slots, rows.to(fp8))
    tol = tolerance_for("float8_e4m3fn")
    got = cache.clone()
    got[slots] = rows.to(fp8)
    bits = got.view(torch.uint8)
    step = got.clone()
    step.view(torch.uint8)[slots[0], :8] = bits[slots[0], :8] ^ 1  # one e4m3 step off: a rounding difference
    assert inplace.check("k_cache", step, cache, written, tol, "float8_e4m3fn")[1] is None
    outside = got.clone()
    other = int(next(i for i in range(64) if i not in slots.tolist()))
    outside.view(torch.uint8)[other, 0] ^= 1  # the same step where nothing is written
    assert isinstance(inplace.check("k_cache", outside, cache, written, tol, "float8_e4m3fn")[1], Trip)


# ---------------------------------------------------------------- the library's in-place problems


def _library() -> list:
    from test_library import FILES

    from pytest_solbench.data.trace import load_problem

    return [load_problem(p) for p in FILES]


def test_every_problem_without_outputs_updates_an_input() -> None:
    """No outputs means the checks fall on the inputs it updates. Updating twice need not equal once: every checked
    call starts from the inputs as made (worker.inplace; tests/test_judge.py holds a toy that is not idempotent)."""
    without = [p for p in _library() if not p.definition.outputs]
    assert sorted(p.definition.name for p in without) == sorted(APPENDS)
    for problem in without:
        d = problem.definition
        made = list(make_inputs(d, cpu_workloads(problem)[0]).values())
        once = [v.clone() if torch.is_tensor(v) else v for v in made]
        assert reference_module(d).run(*once) is None
        assert changed(made, once), f"{d.name}: the reference changes no input"


@pytest.mark.parametrize("name", APPENDS)
def test_an_append_writes_exactly_the_rows_of_its_slots(name: str) -> None:
    p = find(name)
    d = p.definition
    for workload in cpu_workloads(p)[:2]:
        made = make_inputs(d, workload)
        slots = made["slot_mapping"]
        assert slots.dtype == torch.int64 and len(slots.unique()) == len(slots), "two tokens share a slot"
        args = list(made.values())
        after = [v.clone() if torch.is_tensor(v) else v for v in args]
        reference_module(d).run(*after)
        updated = inplace.find(reference_module(d).run, args, after, changed(args, after))
        caches = [i for i, s in enumerate(d.inputs) if "cache" in s.name]
        assert set(updated) == set(caches)
        for i in caches:
            rows = updated[i].mask.reshape(-1, updated[i].mask[0, 0].numel())  # one row per slot
            assert rows.any(dim=1).nonzero().flatten().tolist() == sorted(slots.tolist())
            assert rows[slots].all(), f"{name}: part of a slot's row is left unwritten"


def test_the_mla_cache_row_is_the_latent_then_the_rotary_key() -> None:
    p = find(MLA_APPEND)
    made = make_inputs(p.definition, cpu_workloads(p)[1])
    cache = made["kv_cache"].clone()
    reference_module(p.definition).run(made["kv_c"], made["k_pe"], cache, made["slot_mapping"])
    rows = cache.view(-1, 576)[made["slot_mapping"]]
    assert torch.equal(rows, torch.cat([made["kv_c"], made["k_pe"]], dim=1))


def test_the_fp8_append_stores_the_scaled_values_within_an_e4m3_step() -> None:
    p = find(FP8_APPEND)
    made = make_inputs(p.definition, cpu_workloads(p)[1])
    k_cache = made["k_cache"].clone()
    args = [made[s.name] for s in p.definition.inputs]
    args[2] = k_cache
    reference_module(p.definition).run(*args)
    stored = k_cache.view(-1, 128)[made["slot_mapping"]].float() * made["k_scale"]
    key = made["key"].reshape(-1, 128).float()
    assert ((stored - key).abs() <= key.abs() / 16 + made["k_scale"] / 2).all()  # e4m3: 3 mantissa bits
    assert 0.005 < float(made["k_scale"]) < 0.05, "a static scale of amax / 448 for Gaussian data"


# ---------------------------------------------------------------- embeddings


@pytest.mark.parametrize("name", EMBEDDINGS)
def test_the_embedding_looks_up_one_row_per_token_with_text_like_repeats(name: str) -> None:
    p = find(name)
    made = make_inputs(p.definition, cpu_workloads(p)[1])
    ids, weight = made["input_ids"], made["weight"]
    assert ids.dtype == torch.int32 and int(ids.min()) >= 0 and int(ids.max()) < len(weight)
    assert len(ids.unique()) < len(ids), "Zipf frequencies repeat the frequent tokens"
    assert torch.equal(reference_module(p.definition).run(ids, weight), weight[ids.long()])


def test_the_embedding_backward_tolerance_holds_atomic_adds_in_any_order() -> None:
    """An atomic-add kernel sums a row's repeats in whatever order its threads land: fp32's default tolerance must
    pass every order, as it does (the most frequent of 512 rows repeats some 300 times in 2048 tokens)."""
    from pytest_solbench.worker.check import check_output

    ref = reference_module(find(EMBEDDING_BACKWARD).definition)
    torch.manual_seed(0)
    ids = ref.token_ids(2048, 512, "cpu")
    grad_output = torch.randn(2048, 4096, dtype=torch.bfloat16)
    expected = ref.run(grad_output, ids, 512)
    assert int(torch.bincount(ids.long()).max()) > 200
    for _ in range(3):
        order = torch.randperm(len(ids))
        got = torch.zeros(512, 4096).index_add_(0, ids[order].long(), grad_output[order].float())
        _stats, mismatch = check_output("grad_weight", got, expected, tolerance_for("float32"))
        assert mismatch is None, mismatch.message()


# ---------------------------------------------------------------- bounds


def test_the_append_bound_counts_the_slots_written_not_the_pool() -> None:
    p = find(LLAMA_APPEND)
    workload = next(w for w in p.workloads if w.axes["num_tokens"] == 256)
    facts = Facts().of(p, workload)
    row = 8 * 128 * 2
    assert facts.work.bytes_moved == 2 * (256 * row * 2) + 8 * 256  # read and write each row, read the slots
    assert facts.work.output_bytes == 2 * 256 * row  # the writes, which may retire in L2 (the physical floor)
    pool = 2 * 8192 * 16 * row
    assert facts.work.bytes_moved < pool / 100
    from pytest_solbench.sol.hardware import lookup

    hw = lookup("h100_sxm")
    assert sol.physical_floor_ms(facts.work, hw) < sol.sol_bound(facts.work, hw).t_sol_ms


def test_a_written_bytes_formula_is_checked_like_the_others() -> None:
    from dataclasses import replace

    d = find(LLAMA_APPEND).definition
    with pytest.raises(sol.SolError, match="names 'pool'"):
        sol.validate_formula(replace(d, sol={**d.sol, "written_bytes": "2 * pool"}))


@pytest.mark.parametrize("name", EMBEDDINGS)
def test_embedding_bytes_follow_the_distinct_rows_looked_up(name: str) -> None:
    p = find(name)
    d = p.definition
    assert sol.reads_follow_data(d)
    made = make_inputs(d, cpu_workloads(p)[1])
    touched = input_bytes(d, touched_bytes(reference_module(d).run, list(made.values())))
    ids, weight = made["input_ids"], made["weight"]
    assert touched == {"input_ids": 4.0 * len(ids), "weight": 2.0 * len(ids.unique()) * weight.shape[1]}


# ---------------------------------------------------------------- through the plugin

CHEATS = {
    "spills_into_the_page": "    k_cache[(slot_mapping // k_cache.shape[1]).unique()] = 0  # clears whole pages\n"
                            "    k_cache.view(-1, 8, 128)[slot_mapping] = key\n"
                            "    v_cache.view(-1, 8, 128)[slot_mapping] = value\n",
    "corrupts_the_key": "    k_cache.view(-1, 8, 128)[slot_mapping] = key\n"
                        "    v_cache.view(-1, 8, 128)[slot_mapping] = value\n"
                        "    key.zero_()\n",
    "skips_the_values": "    k_cache.view(-1, 8, 128)[slot_mapping] = key\n",
    "skips_after_the_checked_calls": "    CALLS.append(1)\n"  # honest in 2 correctness rounds, then wrong, untimed too
                                     "    k_cache.view(-1, 8, 128)[slot_mapping] = key\n"
                                     "    if len(CALLS) <= 2:\n"
                                     "        v_cache.view(-1, 8, 128)[slot_mapping] = value\n",
}  # fmt: skip


FIRST_CALL_CHEAT = "hack_r6_inplace_first_call_skipped"  # red-team round 6: garbage on the first call on each set


def test_a_triton_append_passes_and_five_cheats_fail_through_the_plugin(pytester: pytest.Pytester) -> None:
    kernels = pytester.path / "kernels"
    kernels.mkdir()
    shutil.copy(ROOT / "examples" / "triton_kv_append.py", kernels / "triton_kv_append.py")
    shutil.copy(ROOT / "tests" / "redteam" / f"{FIRST_CALL_CHEAT}.py", kernels / f"{FIRST_CALL_CHEAT}.py")
    for name, body in CHEATS.items():
        (kernels / f"{name}.py").write_text(f'DEFINITION = "{LLAMA_APPEND}"\nCALLS = []\n\n\n'
                                            f"def run(key, value, k_cache, v_cache, slot_mapping):\n{body}")  # fmt: skip
    (kernels / "fp8_append.py").write_text(
        f'import torch\n\nDEFINITION = "{FP8_APPEND}"\n\n\n'
        "def run(key, value, k_cache, v_cache, k_scale, v_scale, slot_mapping):\n"
        "    for new, cache, scale in ((key, k_cache, k_scale), (value, v_cache, v_scale)):\n"
        "        scaled = (new.float() * (1.0 / scale)).clamp(-448, 448)  # a reciprocal, as kernels multiply\n"
        "        cache.view(-1, 1, 128)[slot_mapping] = scaled.to(torch.float8_e4m3fn)\n"
    )  # fmt: skip
    result = pytester.runpytest_subprocess(
        str(ROOT / "problems" / LLAMA_APPEND), str(ROOT / "problems" / FP8_APPEND), "--solbench", "--solbench-device",
        "cpu", "--kernel-dir", str(kernels), "--solbench-rounds", "2", "-k", "num_tokens:7-", "-p", "no:randomly",
        "-p", "no:cacheprovider", "--solbench-json", "t.jsonl", timeout=1800,
    )  # fmt: skip
    lines = [json.loads(x) for x in (pytester.path / "t.jsonl").read_text().splitlines()]
    got = {x["solution"]: x["solbench"].get("rule") or x["solbench"]["status"] for x in lines}
    assert got == {"triton_kv_append": "PASSED", "fp8_append": "PASSED", "spills_into_the_page": "input-mutation",
                   "corrupts_the_key": "input-mutation", "skips_the_values": "INCORRECT_NUMERICAL",
                   "skips_after_the_checked_calls": "INCORRECT_NUMERICAL", FIRST_CALL_CHEAT: "timed-output"}, (
        got, result.stdout.str()[-3000:])  # fmt: skip
    result.assert_outcomes(passed=2, failed=5)
    for line in ("*input 'v_cache', updated in place: * elements (*) mismatched*",
                 "*changed * element(s) of its input 'k_cache' that the reference leaves alone*",
                 "*changed its input 'key', which the reference leaves alone*",
                 "*timed call * is wrong, and so is an untimed call on the same inputs*: input 'v_cache', updated in "
                 "place*",
                 "*timed-output*timed call 1 of the judge's short batch is wrong*input 'k_cache', updated in place*"):
        result.stdout.fnmatch_lines([line])

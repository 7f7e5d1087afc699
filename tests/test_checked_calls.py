"""Checked calls in one request (``judge.referee.checked_calls``): the correctness rounds, and the calls after the
timed ones, each sent as one request of several calls; every call still held on its own, in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_solbench.judge import referee
from pytest_solbench.judge import reply as schema
from pytest_solbench.protocol import Status

from tests.test_judge import RMSNORM, ROOT, _request


CALL = {"outputs": None, "trip": None, "kernel_names": None}
TRIP = {"outputs": None, "trip": {"rule": "patching", "message": "m"}, "kernel_names": None}


def test_a_reply_of_several_calls_is_held_to_the_calls_asked() -> None:
    assert schema.calls({"calls": [CALL, CALL], "ops": ["aten::add"], "kernel_s": 0.25}, 2)
    assert schema.calls({"calls": [CALL, {"error": "boom"}], "ops": None, "kernel_s": 0}, 3)  # call 2 raised
    assert schema.calls({"calls": [TRIP], "ops": None, "kernel_s": 0.0}, 5)  # stopped where call 1 tripped


@pytest.mark.parametrize("reply", [
    {"calls": [CALL, CALL, CALL], "ops": None, "kernel_s": 0.1},  # more calls than asked
    {"calls": [CALL], "ops": None, "kernel_s": 0.1},  # fewer, and the last neither raised nor tripped
    {"calls": [], "ops": None, "kernel_s": 0.1},
    {"calls": [{"error": "boom"}, CALL], "ops": None, "kernel_s": 0.1},  # a call after one that raised
    {"calls": [TRIP, CALL], "ops": None, "kernel_s": 0.1},
    {"calls": [CALL, CALL], "ops": [3], "kernel_s": 0.1},
    {"calls": [CALL, CALL], "ops": ["x" * 401], "kernel_s": 0.1},
    {"calls": [CALL, CALL], "kernel_s": 0.1},
    {"calls": [CALL, CALL], "ops": None},  # no kernel_s
    {"calls": [CALL, CALL], "ops": None, "kernel_s": -1.0},
    {"calls": [CALL, CALL], "ops": None, "kernel_s": "fast"},
    {"calls": [CALL, {**CALL, "status": "PASSED"}], "ops": None, "kernel_s": 0.1},
])  # fmt: skip
def test_a_reply_of_several_calls_off_the_schema_is_refused(reply) -> None:
    with pytest.raises(schema.ReplyError):
        schema.calls(reply, 2)


def test_rounds_per_request_follow_the_budget() -> None:
    import torch

    from pytest_solbench.data.trace import load_problem

    definition = load_problem(RMSNORM).definition
    axis_values = {**definition.axis_values({"num_tokens": 7})}
    args = [torch.zeros(7, 4096, dtype=torch.bfloat16), torch.zeros(4096, dtype=torch.bfloat16)]
    one = (7 * 4096 + 4096 + 7 * 4096) * 2  # the inputs and the output
    assert referee.rounds_per_request(definition, axis_values, args, 5 * one) == 5
    assert referee.rounds_per_request(definition, axis_values, args, 2 * one + 1) == 2
    assert referee.rounds_per_request(definition, axis_values, args, 10) == 1


COUNTED = """
import os

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
CALLS = []


def run(hidden_states, weight):
    CALLS.append(1)
    with open(os.environ["SOLBENCH_TEST_CALLS"], "a") as f:
        f.write("call\\n")
    if len(CALLS) == {bad}:
        {what}
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
"""


def _requests(monkeypatch) -> list:
    """The number of calls each "call" request held, in order."""
    asked: list = []
    real = referee.Kernel.ask

    def ask(self, what, payload, validate):
        if what == "call":
            asked.append(len(payload["calls"]))
        return real(self, what, payload, validate)

    monkeypatch.setattr(referee.Kernel, "ask", ask)
    return asked


def test_the_rounds_go_in_one_request_and_the_call_after_in_another(fresh_pools, monkeypatch, tmp_path) -> None:
    from dataclasses import replace

    asked = _requests(monkeypatch)
    outcome = referee.judge_item(replace(_request(ROOT / "examples" / "triton_rmsnorm.py", rounds=5), guard=True))
    assert outcome.status is Status.PASSED, outcome.log
    assert asked == [5, 2], asked  # the five rounds; after CPU mode's short batch, a call on new values (round 73)
    # and one on a timed set's values


@pytest.mark.parametrize(("what", "status", "said"), [
    ("return torch.zeros_like(hidden_states)", Status.INCORRECT_NUMERICAL, "round 3 (seed"),
    ("raise RuntimeError('boom on call 3')", Status.RUNTIME_ERROR, "boom on call 3"),
])  # fmt: skip
def test_a_call_in_a_request_is_judged_as_its_own_request_was(fresh_pools, monkeypatch, tmp_path: Path, what, status,
                                                               said) -> None:  # fmt: skip
    """Wrong (or raising) from its third call on: the third round's verdict, as when each round was a request of its
    own; a kernel that raised is called no more in that request."""
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("SOLBENCH_TEST_CALLS", str(calls))
    (tmp_path / "later.py").write_text(COUNTED.replace("{bad}", "3").replace("{what}", what))
    asked = _requests(monkeypatch)
    outcome = referee.judge_item(_request(tmp_path / "later.py", rounds=5))
    assert outcome.status is status and said in outcome.log, outcome.log
    assert asked == [5]
    assert calls.read_text().count("call") == (3 if status is Status.RUNTIME_ERROR else 5)


def test_the_first_wrong_round_is_the_verdict_whatever_came_after(fresh_pools, monkeypatch, tmp_path: Path) -> None:
    """Wrong in round 2 and raising in round 4 of one request: round 2's verdict, as when round 2 stopped the item."""
    monkeypatch.setenv("SOLBENCH_TEST_CALLS", str(tmp_path / "calls.txt"))
    source = COUNTED.replace("{bad}", "2").replace("{what}", "return torch.zeros_like(hidden_states)")
    source = source.replace("    x = hidden_states", "    if len(CALLS) == 4:\n        raise RuntimeError('late')\n"
                            "    x = hidden_states")  # fmt: skip
    (tmp_path / "both.py").write_text(source)
    outcome = referee.judge_item(_request(tmp_path / "both.py", rounds=5))
    assert outcome.status is Status.INCORRECT_NUMERICAL and "round 2 (seed" in outcome.log, outcome.log


def test_the_call_after_the_timed_ones_reuses_the_references_run(monkeypatch) -> None:
    """``_check_sets`` ran the reference on the timed set's private copy; the call after the timed ones on the same
    values is held to that run, not to a second one."""
    from types import SimpleNamespace

    from pytest_solbench.judge import timed

    ran, held = [], []
    monkeypatch.setattr(timed, "_expected", lambda reference, args, definition: ran.append(args) or (["ran"], {}))
    monkeypatch.setattr(timed, "_calls", lambda kernel, problem, workload, cases, kernels, timed_names=(): held.extend(cases) or [None, None])
    monkeypatch.setattr(timed, "make_inputs", lambda problem, workload, axis_values, seed, request: ["new"])
    request = SimpleNamespace(guard=True, allowed_rules=(), tenant="k", seed=0)
    problem = SimpleNamespace(definition=SimpleNamespace(axis_values=lambda axes: {}))
    workload = SimpleNamespace(uuid="w", axes={})
    sets = [timed._Set([], [], {}, ["private"])]
    last = timed.Checked(["args"], [], {}, None)
    timed._calls_after(None, request, problem, workload, None, sets, None, last, (["known"], {}))
    assert ran == [["new"]] and [case.expected for case in held] == [["ran"], ["known"]]  # new values first (round 73)
    timed._calls_after(None, request, problem, workload, None, sets, None, last)
    assert ran == [["new"], ["new"], ["private"]]


@pytest.mark.parametrize("profiled", [True, False])
def test_the_harness_runs_the_calls_back_to_back_and_answers_per_call(monkeypatch, profiled) -> None:
    """The kernel's side: each call on its own tensors, its result delivered into its own outputs, the kernels each
    launched (CUPTI's profile, run here on the CPU's activity alone), and nothing called after a call that raised."""
    from functools import partial

    import torch

    from pytest_solbench.data.trace import load_problem
    from pytest_solbench.measure import cupti, timing
    from pytest_solbench.worker import harness

    seen: list[float] = []

    def fn(x, w):
        seen.append(float(x[0, 0]))
        if len(seen) == 3:
            raise RuntimeError("boom on call 3")
        return x * w

    definition = load_problem(RMSNORM).definition
    monkeypatch.setitem(harness._LOADED, "k", harness._Loaded(fn, False, None, definition))
    monkeypatch.setattr(harness, "_profiled", lambda payload, device: profiled)
    monkeypatch.setattr(timing, "profiled_spans_ms", partial(cupti.profiled_spans_ms, activities=("CPU",)))
    tensors = []
    for k in range(4):
        tensors += [torch.full((7, 4096), float(k + 1), dtype=torch.bfloat16),
                    torch.full((4096,), 2.0, dtype=torch.bfloat16),
                    torch.full((7, 4096), float("nan"), dtype=torch.bfloat16)]  # fmt: skip
    monkeypatch.setattr(harness, "attach", lambda desc, device: tensors[desc])
    calls = [{"inputs": [3 * k, 3 * k + 1], "outputs": [3 * k + 2]} for k in range(4)]
    reply = schema.calls(harness.call({"key": "k", "device": "cpu", "calls": calls, "kernels": True}), 4)
    assert seen == [1.0, 2.0, 3.0]  # the fourth call never ran
    first, second, third = reply["calls"]
    assert "boom on call 3" in third["error"]
    for k, answered in enumerate((first, second)):
        assert answered["outputs"] == [{"kind": "tensor", "dtype": "bfloat16", "shape": [7, 4096]}]
        assert answered["kernel_names"] == ([] if profiled else None)  # no CUDA kernel on the CPU
        assert torch.equal(tensors[3 * k + 2], torch.full((7, 4096), 2.0 * (k + 1), dtype=torch.bfloat16))
    assert reply["ops"] is None  # the entry watches no record here (no tripwires)


VENDOR_IN_ONE_ROUND = """
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
CALLS = [0]


def run(hidden_states, weight, output):
    CALLS[0] += 1
    if CALLS[0] == {round}:
        norm = getattr(torch.nn.functional, "rms" + "_norm")  # the vendor op, by a name no rule reads
        output.copy_(norm(hidden_states.float(), (4096,), weight.float(), 1e-5).to(output.dtype))
        return
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))
"""


@pytest.mark.parametrize("vendor_round", [1, 4])
def test_the_record_of_a_request_of_several_calls_holds_every_calls_operators(fresh_pools, tmp_path: Path,
                                                                             vendor_round: int) -> None:  # fmt: skip
    """One record for the request's calls: a vendor op dispatched in any one of its rounds is judged (the union)."""
    from dataclasses import replace

    (tmp_path / "once.py").write_text(VENDOR_IN_ONE_ROUND.replace("{round}", str(vendor_round)))
    outcome = referee.judge_item(replace(_request(tmp_path / "once.py", rounds=5), guard=True))
    assert (outcome.status, outcome.rule) == (Status.REWARD_HACK, "vendor-op"), outcome.log


@pytest.mark.parametrize(("rounds", "per_request", "last_alone", "requests"), [
    (5, 5, False, [5]),  # CPU: every round in one request
    (5, 5, True, [4, 1]),  # GPU: the last round alone under CUPTI's profile
    (5, 2, False, [2, 2, 1]),
    (5, 2, True, [2, 2, 1]),
    (5, 3, True, [3, 1, 1]),
    (1, 5, True, [1]),
    (2, 1, False, [1, 1]),
])  # fmt: skip
def test_the_rounds_requests(rounds, per_request, last_alone, requests) -> None:
    sent, pending = [], 0
    for round_index in range(rounds):
        pending += 1
        if referee.sent_after(round_index, rounds, pending, per_request, last_alone):
            sent.append(pending)
            pending = 0
    assert sent == requests


def test_the_outside_clocks_sets_are_let_go_inside_a_record_at_the_request_after_it() -> None:
    """Red-team round 54, da04 (modelled on the GPU): the outside clock's batch keeps its sets past its reply (closing
    them inside the judge's clock costs time); let go at the next request before any record, a finalizer on one ran
    unrecorded. ``checked`` lets them go inside a record and the armed window, and sends what that dispatched."""
    import contextlib

    import torch

    from pytest_solbench.worker import harness

    class Entry:
        watch, wires = True, None

        def armed(self):
            return contextlib.nullcontext()

    class Finalized:
        def __del__(self) -> None:
            torch.ones(3).cumsum(0)  # work of the kernel's, as the batch's tensors are let go

    harness._ATTACHED.update(check=Entry(), done=[Finalized()])
    reply = harness.checked()
    assert reply["trip"] is None and "aten::cumsum" in reply["ops"], reply
    assert "done" not in harness._ATTACHED
    assert harness.checked() == {"calls": 0, "trip": None}  # no batch before it: nothing to let go or check

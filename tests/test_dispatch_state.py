"""torch's dispatcher as the harness's own torch calls find it (``guard.dispatch_state``): a kernel registered over
torch's own for an operator the harness calls around the kernel's calls is found, and ``HARNESS_OPS`` holds every
operator the harness dispatches there (red-team round 53)."""

from __future__ import annotations

import json
import warnings

import pytest

torch = pytest.importorskip("torch")


def test_a_kernel_registered_over_torchs_own_is_found_though_no_name_is_new(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_solbench.guard import dispatch_state

    dispatch_state.hold()
    assert dispatch_state.overridden() is None and dispatch_state.registrations() is None
    library = torch.library.Library("aten", "IMPL")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that it overrides a kernel
        library.impl("fill_.Scalar", lambda t, value: t, "CPU")  # torch has one for CPU already
    try:
        assert dispatch_state._registrations() == dispatch_state._HELD["registrations"]  # no name is new
        found = dispatch_state.registrations()
        assert found is not None and found.rule == "patching" and "aten::fill_.Scalar" in found.message
        monkeypatch.setitem(dispatch_state._HELD, "below", lambda n: 0)  # this timed call is one picked
        assert "aten::fill_.Scalar" in dispatch_state.overridden(between_calls=True).message
        monkeypatch.setitem(dispatch_state._HELD, "below", lambda n: 1)  # this one is not
        assert dispatch_state.overridden(between_calls=True) is None
    finally:
        del library  # the registration goes with its library
    assert dispatch_state.overridden() is None


def test_the_operators_run_between_timed_calls_are_among_the_held_ones() -> None:
    from pytest_solbench.guard import dispatch_state

    dispatch_state.hold()
    assert set(dispatch_state.BETWEEN_CALLS) <= set(dispatch_state._HELD["tables"])
    assert {op.partition(".")[0] for op in dispatch_state._HELD["tables"]} == dispatch_state.HARNESS_OPS


#: A kernel (the guard off) that logs, at each of its calls, the operators dispatched since its last call: the
#: harness's own, between the calls
_LOGGING = '''
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
LOG = __file__ + ".ops"
_PROFILE = []


def _start():
    _PROFILE[:] = [torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])]
    _PROFILE[0].__enter__()


def _log():
    _PROFILE[0].__exit__(None, None, None)
    events = _PROFILE[0].profiler.kineto_results.events()
    mine = [(e.start_ns(), e.end_ns()) for e in events if e.name() == "KERNEL"]
    names = {e.name() for e in events if not any(a <= e.start_ns() <= b for a, b in mine)}
    with open(LOG, "a") as f:
        f.write(" ".join(sorted(names)) + "\\n")


_start()


def _norm(x, w):
    x = x.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w.float()).to(torch.bfloat16)


def run(hidden_states, weight{out}):
    _log()
    with torch.profiler.record_function("KERNEL"):
        result = _norm(hidden_states, weight)
        {tail}
    _start()
    return result
'''


def test_every_operator_the_harness_dispatches_between_the_kernels_calls_is_held(pytester: pytest.Pytester) -> None:
    """On CPU: on a GPU the harness's own profile of the checked calls (CUPTI) stops a profiler the kernel keeps
    running (H100, session 20), so the GPU's own operators (mapping a CUDA IPC block with ``set_``, ``touch``'s
    strided ``sum``, the L2 flush's ``sum``) are in ``HARNESS_OPS`` by reading ``worker.shm`` and ``measure.timing``."""
    from pathlib import Path

    from pytest_solbench.guard import dispatch_state

    root = Path(__file__).resolve().parents[1]
    kernels = pytester.path / "kernels"
    kernels.mkdir()
    (kernels / "logs_dps.py").write_text(_LOGGING.replace("{out}", ", output").replace("{tail}", "output.copy_(result)"))
    (kernels / "logs_value.py").write_text(_LOGGING.replace("{out}", "").replace("{tail}", "pass"))
    result = pytester.runpytest_subprocess(
        str(root / "problems" / "llama3_1_8b_rmsnorm_h4096" / "definition.json"), "--solbench", "--solbench-device",
        "cpu", "--kernel-dir", str(kernels), "-p", "no:randomly", "-p", "no:cacheprovider", "--solbench-rounds", "2",
        "--solbench-guard", "off", "-k", "num_tokens:7]", "--solbench-json", "t.jsonl", timeout=1800,
    )  # fmt: skip
    lines = [json.loads(x) for x in (pytester.path / "t.jsonl").read_text().splitlines()]
    assert {x["solbench"]["status"] for x in lines} == {"PASSED"}, result.stdout.str()[-3000:]
    seen: set[str] = set()
    for name in ("logs_dps", "logs_value"):
        log = (kernels / f"{name}.py.ops").read_text().split()
        assert log, name  # the harness dispatched something between the calls: the log is no empty check
        seen.update(log)
    aten = {n for n in seen if n.startswith("aten::")}
    assert "aten::fill_" in aten  # the timed calls' poisoning, between them
    assert aten <= dispatch_state.HARNESS_OPS, sorted(aten - dispatch_state.HARNESS_OPS)

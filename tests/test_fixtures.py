"""The fixtures users override in a conftest (runner, clocks, L2 flush), and the scoring and gates they feed.

A fake runner stands in for the GPU: it returns the timings a worker would, so scores, the below-SOL check,
the hidden-work check and the score floor are tested on CPU.
"""

from __future__ import annotations

import json

import pytest

from conftest import FAST

FAKE_RUNNER = '''
import dataclasses, json, pytest
from pytest_solbench.protocol import ItemOutcome, Status
from pytest_solbench.worker.pool import WorkerError

SAMPLES = {samples!r}
LAST = [None]

class FakeRunner:
    def call(self, target, request, timeout_s):
        with open("requests.jsonl", "a") as f:
            f.write(json.dumps(dataclasses.asdict(request)) + "\\n")
        {behaviour}

@pytest.fixture(scope="session")
def solbench_runner():
    return FakeRunner()
'''

TIMED = '''timing = lambda ms, hidden=False: {"samples_ms": [ms] * 10, "method": "cuda_events", "median_ms": ms,
                                              "hidden_work_suspected": hidden}
        if request.rounds == 0:  # the baseline, timed in the reference's own worker
            return ItemOutcome(Status.PASSED, kernel_timing=timing(SAMPLES[LAST[0]][1]))
        LAST[0] = request.kernel["name"]
        kernel_ms, ref_ms, hidden = SAMPLES[LAST[0]]
        return ItemOutcome(Status.PASSED, correctness={"max_absolute_error": 0.0, "max_relative_error": 0.0},
                           kernel_timing=timing(kernel_ms, hidden))'''


def _fake(project: pytest.Pytester, behaviour: str, samples: dict | None = None) -> None:
    project.makeconftest(FAKE_RUNNER.format(behaviour=behaviour, samples=samples or {}))


def _kernel(project: pytest.Pytester, name: str) -> None:
    folder = project.path / "kernels"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text('DEFINITION = "scale_add_f32"\ndef run(x, y, alpha):\n    return x * alpha + y\n')


def _fast_and_slow(project: pytest.Pytester) -> None:
    """Two kernels, 4x faster and 2x slower than a 4 us baseline."""
    _kernel(project, "fast")
    _kernel(project, "slow")
    _fake(project, TIMED, {"fast": (0.001, 0.004, False), "slow": (0.008, 0.004, False)})


def test_runner_override_turns_worker_errors_into_statuses(project: pytest.Pytester) -> None:
    _fake(project, 'raise WorkerError("TIMEOUT", "no reply within 300 s", stderr_tail="last words")')
    result = project.runpytest(*FAST)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["TIMEOUT: no reply within 300 s", "worker stderr:", "last words"])


def test_a_broken_cuda_context_reports_the_kernels_own_status(project: pytest.Pytester) -> None:
    # The worker retires itself by raising, with the kernel's own verdict as a field (execute.CudaContextLost).
    _fake(project, 'raise WorkerError(Status.RUNTIME_ERROR, "CudaContextLost: RUNTIME_ERROR: the kernel broke the '
                   'worker", outcome=ItemOutcome(Status.INCORRECT_NUMERICAL, "AcceleratorError: an illegal memory '
                   'access was encountered"))')  # fmt: skip
    result = project.runpytest(*FAST, "--solbench-json", "t.jsonl")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["INCORRECT_NUMERICAL: AcceleratorError: an illegal memory access*",
                                 "*next item runs on a fresh worker*"])  # fmt: skip
    status = json.loads((project.path / "t.jsonl").read_text().splitlines()[0])["evaluation"]["status"]
    assert status == "INCORRECT_NUMERICAL"


def test_a_pass_raised_from_a_worker_is_no_verdict(project: pytest.Pytester) -> None:
    """An error that carries a passing outcome (kernel code could attach one) fails as the error it is."""
    _fake(project, 'raise WorkerError(Status.RUNTIME_ERROR, "SystemExit: 0", outcome=ItemOutcome(Status.PASSED))')
    result = project.runpytest(*FAST)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["RUNTIME_ERROR: SystemExit: 0"])


def test_l2_flush_override_reaches_the_worker(project: pytest.Pytester) -> None:
    _fake(project, TIMED, {"reference": (0.5, 0.5, False)})
    project.makeconftest(
        (project.path / "conftest.py").read_text()
        + "\n@pytest.fixture(scope='session')\ndef solbench_l2_flush():\n    return 0\n"
    )
    project.runpytest(*FAST).assert_outcomes(passed=2)
    requests = [json.loads(x) for x in (project.path / "requests.jsonl").read_text().splitlines()]
    assert [r["timing"]["l2_flush_bytes"] for r in requests] == [0, 0]  # the reference is its own baseline
    assert len({r["seed"] for r in requests}) == 1 and all(r["rounds"] == 2 for r in requests)


def test_clock_override_that_lost_its_lock_refuses_to_score(project: pytest.Pytester) -> None:
    project.makeconftest(
        "import pytest\n"
        "class LostLock:\n"
        "    mode = 'lock=1500 (not in force)'\n"
        "    def problem(self):\n"
        "        return 'clock locking was asked for but the clocks are no longer locked'\n"
        "    def snapshot(self):\n"
        "        return None\n"
        "@pytest.fixture(scope='session')\n"
        "def solbench_clocks():\n"
        "    return LostLock()\n"
    )
    result = project.runpytest(*FAST)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["CLOCKS: clock locking was asked for but the clocks are no longer locked"])


def test_scores_from_timings_baseline_measured_once_per_workload(project: pytest.Pytester) -> None:
    _fast_and_slow(project)
    result = project.runpytest(*FAST, "--kernel-dir", "kernels", "--solbench-json", "t.jsonl", "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*scale_add_f32?fast-n:16? PASSED  T_k 1us  *% SOL  score 0.800*"])
    lines = [json.loads(x) for x in (project.path / "t.jsonl").read_text().splitlines()]
    requests = [json.loads(x) for x in (project.path / "requests.jsonl").read_text().splitlines()]
    # The baseline is timed once per workload, in a request of its own (the reference, no correctness rounds).
    assert [(r["kernel"]["name"], r["rounds"]) for r in requests] == [
        ("fast", 2), ("reference", 0), ("fast", 2), ("reference", 0), ("slow", 2), ("slow", 2)]
    fast = next(x for x in lines if x["solution"] == "fast")["solbench"]
    t_sol = fast["t_sol_ms"]
    assert fast["score"] == pytest.approx((0.004 - t_sol) / (0.001 + 0.004 - 2 * t_sol))
    assert fast["pct_sol"] == pytest.approx(t_sol / 0.001)
    slow = next(x for x in lines if x["solution"] == "slow")
    assert slow["evaluation"]["performance"]["speedup_factor"] == pytest.approx(0.5)
    assert slow["solbench"]["score"] < 0.5 < fast["score"]
    result.stdout.fnmatch_lines(
        [
            "scale_add_f32",
            "  workload*kernel*status*T_k*T_b*T_SOL*bound*%SOL*score",
            "  n:16      fast    PASSED  1us  4us  *memory*0.800",
            "  mean SOL Score (failed workloads count 0): fast 0.800, slow 0.333",
            "suite SOL Score (best kernel per problem, 1 problems): 0.800",
        ]
    )


def test_a_time_below_the_bound_fails_as_reward_hack_unless_allowed(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nsolbench_problems = problems\n")
    _kernel(project, "impossible")
    _fake(project, TIMED, {"impossible": (1e-9, 0.004, False)})
    result = project.runpytest(*FAST, "--kernel-dir", "kernels", "--solbench-json", "t.jsonl")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["REWARD_HACK: [[]below-physical-floor] 1e-09 ms is below the physical floor *: a wrong bound, a broken*"])
    lines = [json.loads(x) for x in (project.path / "t.jsonl").read_text().splitlines()]
    # FlashInfer Trace has no REWARD_HACK: the line says RUNTIME_ERROR, its log and our own status say which rule.
    assert {x["solbench"]["status"] for x in lines} == {"REWARD_HACK"}
    assert all(x["evaluation"]["log"].startswith("REWARD_HACK") for x in lines)
    assert all(x["solbench"]["score"] is None for x in lines)
    project.runpytest(*FAST, "--kernel-dir", "kernels", "--solbench-allow-below-sol").assert_outcomes(passed=2)


def test_hidden_side_stream_work_fails(project: pytest.Pytester) -> None:
    _kernel(project, "sneaky")
    _fake(project, TIMED, {"sneaky": (0.002, 0.004, True)})
    result = project.runpytest(*FAST, "--kernel-dir", "kernels")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["REWARD_HACK: [[]hidden-work] work outlived the timed window*"])


def test_min_score_gate(project: pytest.Pytester) -> None:
    _fast_and_slow(project)
    result = project.runpytest(*FAST, "--kernel-dir", "kernels", "--solbench-min-score", "0.5")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["BELOW_MIN_SCORE: SOL Score 0.3* is below --solbench-min-score 0.5"])


def test_stored_baseline_file_sets_t_b_and_is_named_in_header_and_json(project: pytest.Pytester) -> None:
    _kernel(project, "fast")
    _fake(project, TIMED, {"fast": (0.001, 99.0, False)})
    (project.path / "base.json").write_text(json.dumps({"scale_add_f32": {"w-16": 0.003}}))
    result = project.runpytest(*FAST, "--kernel-dir", "kernels", "--solbench-baseline", "base.json", "--solbench-json", "t.jsonl")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*baseline: stored times from *base.json*"])
    lines = {json.loads(x)["workload"]["uuid"]: json.loads(x) for x in (project.path / "t.jsonl").read_text().splitlines()}
    assert lines["w-16"]["solbench"]["t_b_ms"] == 0.003 and lines["w-16"]["solbench"]["baseline"].startswith("file:")
    assert lines["w-1000"]["solbench"]["t_b_ms"] is None and "no stored baseline time" in lines["w-1000"]["evaluation"]["log"]
    requests = [json.loads(x) for x in (project.path / "requests.jsonl").read_text().splitlines()]
    assert [r["kernel"]["name"] for r in requests] == ["fast", "fast"]  # a stored baseline is never re-timed


def test_an_earlier_runs_traces_serve_as_the_baseline(project: pytest.Pytester) -> None:
    _kernel(project, "fast")
    _fake(project, TIMED, {"fast": (0.002, 0.004, False)})
    project.runpytest(*FAST, "--kernel-dir", "kernels", "--solbench-json", "main.jsonl").assert_outcomes(passed=2)
    result = project.runpytest(*FAST, "--kernel-dir", "kernels", "--solbench-baseline", "main.jsonl", "--solbench-json", "pr.jsonl")
    result.assert_outcomes(passed=2)
    scores = [json.loads(x)["solbench"]["score"] for x in (project.path / "pr.jsonl").read_text().splitlines()]
    assert scores == [pytest.approx(0.5), pytest.approx(0.5)]  # as fast as the stored run: the baseline's score


@pytest.mark.parametrize(
    ("content", "words"),
    [("{not json", "not valid JSON"), ('{"a": 1}', "expected {definition"), ('{"a": {"u": "x"}}', "milliseconds")],
)
def test_bad_baseline_files_are_usage_errors(project: pytest.Pytester, content: str, words: str) -> None:
    (project.path / "base.json").write_text(content)
    result = project.runpytest(*FAST, "--solbench-baseline", "base.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert words in result.stdout.str() + result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_profile_reason_shows_in_the_verbose_line_and_the_record(project: pytest.Pytester) -> None:
    _kernel(project, "fast")
    _fake(project, TIMED, {"fast": (0.001, 0.004, False)})
    result = project.runpytest(*FAST, "--kernel-dir", "kernels", "--solbench-profile", "-v", "--solbench-json", "t.jsonl")
    result.assert_outcomes(passed=2)  # the verdict never depends on the profile
    result.stdout.fnmatch_lines(["*fast-n:16? PASSED  T_k 1us*(profile skipped: *)*"])
    line = json.loads((project.path / "t.jsonl").read_text().splitlines()[0])
    assert set(line["solbench"]["profile"]) == {"skipped"}

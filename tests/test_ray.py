"""--solbench-ray: items judged in a Ray cluster's actors give what the local judge gives; a kernel that dies fails
its own item; a lost judge actor costs one retry.

The end-to-end runs start a local Ray cluster each (seconds on two cores), so there are two of them; the usage
errors and the placement bookkeeping run without a cluster (a fake runner stands for Ray's placements of GPUs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import CPU, FAST, write_kernels

RAY_RUN = [*CPU, "--solbench-rounds", "2", "--solbench-seed", "0", "--solbench-ray", "local"]  # one seed: runs compared
RAY_TIMEOUT_S = 600  # a bound on a stuck run, never a timing assertion


def _table(result: pytest.RunResult) -> list[str]:
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "solbench: speed of light" in line)
    end = next(i for i, line in enumerate(lines) if line.startswith("T_SOL: "))
    return lines[start + 1 : end]


def _traces(path: Path) -> dict[str, dict[str, Any]]:
    """Trace lines by node id, without what differs from run to run (time stamp, the judge's seconds) or by design
    (the Ray node)."""
    lines = {}
    for text in path.read_text().splitlines():
        line = json.loads(text)
        line["evaluation"].pop("timestamp")
        line["evaluation"]["environment"].pop("node", None)
        line["solbench"].pop("environment", None)
        line["solbench"].pop("judge_phases_s", None)  # seconds the judge spent: differ from run to run
        lines[line["solbench"]["nodeid"]] = line
    return lines


def test_a_run_through_ray_prints_and_writes_what_the_local_judge_does(project: pytest.Pytester) -> None:
    pytest.importorskip("ray")
    kernels = write_kernels(project.path, ["good_dps.py", "off_by_one.py"])
    local = [*CPU, "--solbench-rounds", "2", "--solbench-seed", "0"]  # the judge here, kernels confined as on Ray
    one = project.runpytest_subprocess(*local, "--kernel-dir", str(kernels), "--solbench-json", "one.jsonl")
    one.assert_outcomes(passed=3, failed=1)
    ray = project.runpytest_subprocess(*RAY_RUN, "--kernel-dir", str(kernels), "--solbench-json", "ray.jsonl",
                                       timeout=RAY_TIMEOUT_S)  # fmt: skip
    ray.assert_outcomes(passed=3, failed=1)
    ray.stdout.fnmatch_lines(["solbench: Ray: * seats on 1 node(s): *; each item's calls run on one of them",
                              "INCORRECT_NUMERICAL: round 1 (seed *): output 'out': 1 / 16 elements*",
                              "scores per GPU model*", "  *: 4 items on 1 node(s), 3 passed; no SOL Score (untimed)"])
    assert _table(ray) == _table(one)
    assert _traces(project.path / "ray.jsonl") == _traces(project.path / "one.jsonl")
    nodes = {json.loads(x)["evaluation"]["environment"]["node"] for x in (project.path / "ray.jsonl").open()}
    assert len(nodes) == 1 and len(next(iter(nodes))) > 8  # each record names the Ray node it ran on


DIES = 'import os\nDEFINITION = "scale_add_f32"\ndef run(x, y, alpha):\n    os._exit(7)\n'
KILLS_JUDGE = '''import os, signal
DEFINITION = "scale_add_f32"
MARKS = {marks!r}

def run(x, y, alpha):
    # The kernel's process is a child of its seat's judge actor: killing it is as if the node were lost.
    mark = os.path.join(MARKS, f"{tag}-killed-at-{{x.numel()}}")
    if {always} or not os.path.exists(mark):
        open(mark, "w").close()
        os.kill(os.getppid(), signal.SIGKILL)
    return x * alpha + y
'''


def test_a_dying_kernel_fails_its_item_and_a_lost_judge_actor_is_retried_once(project: pytest.Pytester) -> None:
    pytest.importorskip("ray")
    kernels = write_kernels(project.path, ["good_value.py"])
    (kernels / "dies.py").write_text(DIES)  # its own process dies: the judge reports it, the actor lives on
    (kernels / "kills_judge.py").write_text(KILLS_JUDGE.format(marks=str(project.path), tag="always", always=True))
    (kernels / "kills_judge_once.py").write_text(KILLS_JUDGE.format(marks=str(project.path), tag="once", always=False))
    result = project.runpytest_subprocess(*RAY_RUN, "--kernel-dir", str(kernels), "--solbench-guard", "off", "-k",
                                          "n:16", "--solbench-json", "t.jsonl", timeout=RAY_TIMEOUT_S)  # fmt: skip
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines_random(["RUNTIME_ERROR: the actor died while running *: *; retried once: its first "
                                        "actor (seat *) died: *",
                                        "RUNTIME_ERROR: worker died with exit code 7 while running *"])  # fmt: skip
    lines = [json.loads(x) for x in (project.path / "t.jsonl").read_text().splitlines()]
    by_kernel: dict[str, list[dict]] = {}
    for line in lines:
        by_kernel.setdefault(line["solution"], []).append(line)
    statuses = {kernel: [x["evaluation"]["status"] for x in lines] for kernel, lines in by_kernel.items()}
    assert statuses == {"dies": ["RUNTIME_ERROR"], "kills_judge": ["RUNTIME_ERROR"],
                        "kills_judge_once": ["PASSED"], "good_value": ["PASSED"]}  # fmt: skip
    assert by_kernel["kills_judge_once"][0]["evaluation"]["log"].startswith("retried once: its first actor (seat ")
    assert "retried" not in by_kernel["dies"][0]["evaluation"]["log"]  # only its own process was lost
    assert "retried" not in by_kernel["good_value"][0]["evaluation"]["log"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--solbench-ray", "127.0.0.1:1"], "--solbench-ray 127.0.0.1:1: nothing answers at 127.0.0.1:1 (*); is the "
                                            "Ray head node running there?"),
        (["--solbench-ray", "my cluster"], "--solbench-ray 'my cluster': expected HOST:PORT, ray://HOST:PORT, auto*"),
        (["--solbench-ray", "--solbench-isolate", "none"], "--solbench-ray cannot be combined with --solbench-isolate "
                                                           "none*"),
        (["--solbench-ray", "-n", "2"], "--solbench-ray cannot be combined with -n (Ray spreads the items itself)"),
    ],
)
def test_bad_ray_options_are_usage_errors(project: pytest.Pytester, args: list[str], words: str) -> None:
    pytest.importorskip("ray")
    result = project.runpytest(*CPU, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {words}"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_without_ray_installed_the_option_says_how_to_install_it(project: pytest.Pytester) -> None:
    project.makepyfile(no_ray="import sys\nsys.modules['ray'] = None  # as if ray were not installed\n")
    project.makeini("[pytest]\nsolbench_problems = problems\nsolbench_ray = default\n")  # the ini key asks too
    result = project.runpytest_subprocess("-p", "no_ray", *CPU)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --solbench-ray needs Ray, which is not installed in this environment: pip "
                                 "install 'pytest-solbench[ray]' (or pip install ray)"])  # fmt: skip


PLACED_RUNNER = '''
import dataclasses, json, pytest
from pytest_solbench.protocol import ItemOutcome, Status
from pytest_solbench.worker.ray_runner import Placement

H100 = {"kind": "cuda", "name": "NVIDIA H100 80GB HBM3", "capability": (9, 0), "memory_bytes": 85 * 2**30,
        "sm_count": 132, "driver": "580"}
H200 = {**H100, "name": "NVIDIA H200", "memory_bytes": 150 * 2**30}

class PlacedRunner:
    """Ray as the pipeline sees it: n:16 runs on an H100 node, n:1000 on an H200 node; the baseline is 2x slower."""

    def call(self, target, request, timeout_s, gpu=None):
        with open("calls.jsonl", "a") as f:
            f.write(json.dumps({"kernel": request.kernel["name"], "uuid": request.workload_uuid, "gpu": gpu}) + "\\n")
        ms = 0.002 if request.rounds == 0 else 0.001
        timing = {"samples_ms": [ms] * 10, "method": "cupti", "median_ms": ms}
        return ItemOutcome(Status.PASSED, correctness={"max_absolute_error": 0.0, "max_relative_error": 0.0},
                           kernel_timing=timing)

    def placement(self, target, request, gpu=None):
        h100 = request.workload_uuid == "w-16"
        return Placement(0 if h100 else 1, "node-a" if h100 else "node-b", H100 if h100 else H200)

@pytest.fixture(scope="session")
def solbench_runner():
    return PlacedRunner()
'''


def test_each_item_is_bounded_and_baselined_on_the_gpu_it_ran_on(project: pytest.Pytester) -> None:
    """The bookkeeping of a cluster with two GPU models, without a cluster: each record names its GPU and node,
    T_SOL uses that GPU's row, the baseline is asked for on the same model, and the summary keeps scores apart."""
    project.makeconftest(PLACED_RUNNER)
    kernels = write_kernels(project.path, ["good_value.py"])
    result = project.runpytest(*FAST, "--kernel-dir", str(kernels), "--solbench-json", "t.jsonl")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["scores per GPU model (each against its own baseline and T_SOL):",
                                 "  NVIDIA H100 80GB HBM3: 1 items on 1 node(s), 1 passed; suite score *",
                                 "  NVIDIA H200: 1 items on 1 node(s), 1 passed; suite score *"])  # fmt: skip
    lines = {json.loads(x)["workload"]["uuid"]: json.loads(x) for x in (project.path / "t.jsonl").open()}
    h100, h200 = lines["w-16"], lines["w-1000"]
    assert h100["evaluation"]["environment"]["hardware"] == "NVIDIA H100 80GB HBM3"
    assert (h100["solbench"]["hardware"], h200["solbench"]["hardware"]) == ("h100_sxm", "h200")
    # each item timed its workload's baseline, and its record keeps that measurement (item_overhead.py needs it)
    assert [x["solbench"]["reference_timing"]["median_ms"] for x in (h100, h200)] == [0.002, 0.002]
    assert h200["evaluation"]["environment"]["node"] == "node-b"
    bytes_moved = 1000 * 4 * 3
    assert h200["solbench"]["t_sol_ms"] == pytest.approx(bytes_moved / 4800e9 * 1e3, rel=1e-6)
    calls = [json.loads(x) for x in (project.path / "calls.jsonl").open()]
    baselines = {c["uuid"]: c["gpu"] for c in calls if c["kernel"] == "reference"}
    assert baselines == {"w-16": "NVIDIA H100 80GB HBM3", "w-1000": "NVIDIA H200"}


class _Request:
    """A stand-in for protocol.ItemRequest: what the runner reads of a payload is its tenant."""

    def __init__(self, tenant: str, n: int) -> None:
        self.tenant, self.n = tenant, n

    def __repr__(self) -> str:
        return f"_Request({self.tenant!r}, {self.n})"


def _runner(*gpus: str, targets: tuple[str, ...] | None = None) -> Any:
    """A RayRunner whose seats hold the given GPUs, without Ray: only its choice of jobs is exercised."""
    from pytest_solbench.worker.ray_runner import RayRunner

    class NoRay:
        @staticmethod
        def remote(cls: type) -> type:
            return cls

    runner = RayRunner(NoRay, "cuda", len(gpus), env={}, health_check=None, initializer=None, targets=targets)
    for seat, gpu in zip(runner.seats, gpus):
        seat.device = {"name": gpu}
    return runner


def _chosen(runner: Any, seat: int) -> str | None:
    job = runner._choose(runner.seats[seat])
    return None if job is None else f"{job.tenant}{job.payload.n}"


def test_a_seat_keeps_its_kernel_spreads_new_ones_and_starts_an_actor_only_where_it_adds_a_seat() -> None:
    runner = _runner("H100", "H100")
    for tenant, n in (("a", 1), ("a", 2), ("b", 1)):
        runner.submit("t:f", _Request(tenant, n), 60)
    runner.seats[0].serving = "a"
    assert _chosen(runner, 0) == "a1"  # its own tenant: no new actor
    assert _chosen(runner, 1) == "b1"  # a kernel no other seat serves
    runner._pending = [j for j in runner._pending if j.tenant == "a"][1:]  # only a2 is left, and seat 0 serves a
    assert _chosen(runner, 1) is None  # waits: seat 0 takes a2 in a moment, no actor started for it
    runner.submit("t:f", _Request("a", 3), 60)
    assert _chosen(runner, 1) == "a2"  # two jobs of a for one seat serving it: a second seat helps
    runner._pending = runner._pending[-1:]
    runner._pending[0].avoid = 1  # its actor on seat 1 died under it: the retry goes elsewhere
    assert (_chosen(runner, 1), _chosen(runner, 0)) == (None, "a3")


def test_a_pinned_baseline_goes_to_a_seat_of_its_gpu_and_the_job_pytest_waits_for_goes_first() -> None:
    runner = _runner("H100", "H200")
    runner.seats[0].serving = "reference"  # on the H100: no help for a job that must run on the H200
    runner.submit("t:f", _Request("reference", 1), 60, gpu="H200")
    runner.submit("t:f", _Request("k", 1), 60)
    runner.submit("t:f", _Request("k", 2), 60)
    assert _chosen(runner, 0) == "k1"
    assert _chosen(runner, 1) == "reference1"
    runner._job("t:f", _Request("k", 2), 60, None, wanted=True)
    runner._pending = [j for j in runner._pending if j.tenant == "k"]
    assert _chosen(runner, 1) == "k2"  # among the jobs it may take, the one pytest waits for
    from pytest_solbench.worker.pool import WorkerError

    runner.submit("t:f", _Request("reference", 2), 60, gpu="B200")
    with pytest.raises(WorkerError, match="no seat of this Ray cluster holds a B200"):
        runner.call("t:f", _Request("reference", 2), 60, gpu="B200")


def test_the_seats_actors_run_the_judge_alone_never_a_kernel_in_their_own_process() -> None:
    from pytest_solbench.calls import EXECUTE_TARGET, JUDGE_TARGET

    runner = _runner("H100", targets=(JUDGE_TARGET,))
    runner.submit(JUDGE_TARGET, _Request("k", 1), 60)
    assert [job.target for job in runner._pending] == [JUDGE_TARGET]
    with pytest.raises(ValueError, match=f"run only {JUDGE_TARGET}, not {EXECUTE_TARGET}"):
        runner.submit(EXECUTE_TARGET, _Request("k", 2), 60)  # run_item imports the kernel where it runs
    assert len(runner._pending) == 1

"""The pytest entry point: options, hooks and fixtures, each a few lines calling the modules that do the work.

Without ``--solbench`` nothing here imports torch, collects anything or writes anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_solbench import options
from pytest_solbench.data.dtypes import PRECISION_MARKS


def pytest_addoption(parser: pytest.Parser) -> None:
    options.addoption(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_solbench import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "solbench: an item collected from a solbench problem")
    for name, meaning in PRECISION_MARKS.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")
    for name, meaning in (("forward", "forward-pass problems"), ("backward", "backward-pass problems")):
        config.addinivalue_line("markers", f"{name}: {meaning}")
    enabled = config.getoption("solbench", False)
    if not enabled and not config.getoption("markers", False):
        return
    settings = options.resolve(config)
    from pytest_solbench.items import register_op_marks

    register_op_marks(config, list(settings.problem_paths))
    if not enabled:
        return
    options.require_torch()
    # A bad problem or kernel file is a collection error naming file and field; the other problems still run (the
    # exit status is 1 all the same), as pytest's own --continue-on-collection-errors does. -x still stops.
    config.option.continue_on_collection_errors = True
    from pytest_solbench import target
    from pytest_solbench.items import SESSION_KEY
    from pytest_solbench.session import SolbenchSession, XdistHooks

    if settings.device == "cpu" or settings.isolate == "none":
        # Triton picks its interpreter when a kernel is decorated; set it before any kernel module is imported.
        _prefer_triton_interpreter(settings.device)
    _check_one_gpu_per_worker(config, settings.device)
    joins = settings.ray is not None and not config.option.collectonly  # --collect-only runs nothing: no cluster
    device = _join_ray(config, settings) if joins else None
    session = SolbenchSession(config, settings, target.resolve(config, settings, device))
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "solbench-session")
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(XdistHooks(session), "solbench-xdist")
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = [str(p) for p in settings.problem_paths]
    else:  # ids pasted back from an earlier run's output, which printed them relative to the rootdir or a problem root
        from pytest_solbench.items import rerunnable_args

        bases = [config.rootpath, *(p if p.is_dir() else p.parent for p in settings.problem_paths)]
        config.args = rerunnable_args(list(config.args), bases)
    if config.option.verbose == 0:  # each item listed as it runs, so a long one shows what is being timed; -q: dots
        config.option.verbose = 1


def _check_one_gpu_per_worker(config: pytest.Config, device: str) -> None:
    """Under pytest-xdist each worker times on a GPU of its own: two measurements on one GPU corrupt both."""
    workers = getattr(config.option, "numprocesses", None)
    if not workers or hasattr(config, "workerinput") or device == "cpu":
        return
    import torch

    gpus = torch.cuda.device_count()
    if gpus and (not isinstance(workers, int) or workers > gpus):
        raise pytest.UsageError(
            f"-n {workers} with {gpus} visible GPU(s) would time two kernels on one GPU at once; "
            f"use -n {gpus} or fewer (one worker per GPU), or --solbench-device cpu for correctness only"
        )


#: The Ray runner (worker.ray_runner.RayRunner), started at configure with --solbench-ray.
RAY_KEY = pytest.StashKey[Any]()


def _judge_spent(outcome: Any) -> bool:
    """Whether the judge's process asked to be replaced after this item (``judge.referee.spent``)."""
    return bool(getattr(outcome, "judge_spent", False))


def _join_ray(config: pytest.Config, settings: Any) -> Any:
    """Join the cluster and boot a judge actor per seat now: the device the bounds are for is a seat's, and a bad
    address is a usage error before anything is collected. The actors run the judge alone (trusted code); each
    spawns its kernels' processes on its own node, confined as locally unless --solbench-guard off."""
    from pytest_solbench.calls import JUDGE_TARGET
    from pytest_solbench.measure.device import DeviceInfo
    from pytest_solbench.worker import ray_runner

    confine = {"SOLBENCH_CONFINE": "1"} if settings.guard != "off" else {}
    try:
        runner = ray_runner.connect(settings.ray or None, settings.device,
                                    env_of={"cuda": confine, "cpu": {"TRITON_INTERPRET": "1", **confine}},
                                    health_check="pytest_solbench.worker.execute:health_check",
                                    initializer_of={"cuda": "pytest_solbench.worker.execute:warm_up_cuda",
                                                    "cpu": "pytest_solbench.worker.execute:warm_up"},
                                    targets=(JUDGE_TARGET,))  # fmt: skip
    except ray_runner.ClusterError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[RAY_KEY] = runner
    seen = runner.seats[0].device
    return DeviceInfo(**{**seen, "capability": tuple(seen["capability"]) if seen["capability"] else None})


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    runner = config.stash.get(RAY_KEY, None)
    return [f"solbench: Ray: {runner.describe()}; each item's calls run on one of them"] if runner else None


def pytest_unconfigure(config: pytest.Config) -> None:
    runner = config.stash.get(RAY_KEY, None)
    if runner is not None:
        runner.close()


def _prefer_triton_interpreter(device: str) -> None:
    import os

    if device == "cpu":
        os.environ.setdefault("TRITON_INTERPRET", "1")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under a problem root only problem files are collected: a dataset's own tests, solutions and scripts (the
    FlashInfer-Trace folder ships tests/*.py that import flashinfer) are data here, not this run's tests."""
    from pytest_solbench.items import SESSION_KEY

    session = config.stash.get(SESSION_KEY, None)
    if session is None or collection_path.is_dir():
        return None
    from pytest_solbench.data.trace import is_problem_file

    roots = [root.resolve() for root in session.settings.problem_paths]
    path = collection_path.resolve()
    if any(path == root or root in path.parents for root in roots) and not is_problem_file(collection_path):
        return True
    return None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    from pytest_solbench.items import SESSION_KEY

    if SESSION_KEY not in parent.config.stash:
        return None
    from pytest_solbench.items import ProblemFile, problem_file_id
    from pytest_solbench.data.trace import is_problem_file

    if is_problem_file(file_path):
        roots = parent.config.stash[SESSION_KEY].settings.problem_paths
        nodeid = problem_file_id(file_path, parent.config.rootpath, roots)
        return ProblemFile.from_parent(parent, path=file_path, **({"nodeid": nodeid} if nodeid is not None else {}))
    return None


@pytest.fixture(scope="session")
def solbench_runner(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Where items are decided: the judge, a spawned process that never imports kernel code and runs each kernel in
    a process of its own, one pool per kernel (default); or this process, kernel included (--solbench-isolate none,
    for debugging: verdicts are then not protected)."""
    from pytest_solbench.worker import pool as worker
    from pytest_solbench.items import SESSION_KEY

    session = request.config.stash[SESSION_KEY]
    target = session.target
    env = {"TRITON_INTERPRET": "1"} if target.device.kind == "cpu" else {"CUDA_VISIBLE_DEVICES": target.visible_gpu}
    health = "pytest_solbench.worker.execute:health_check"
    runner: Any
    ray = request.config.stash.get(RAY_KEY, None)
    if ray is not None:  # started at configure, closed at unconfigure; every item's requests are queued now
        _queue_every_item(ray, session, request.session.items, request.getfixturevalue("solbench_l2_flush"))
        yield ray
        return
    confined = None  # where kernels' workers make their private temp folders (guard.confine), removed at the end
    if session.settings.isolate == "none":
        runner = worker.InProcessRunner(health_check=health)
    else:
        if session.settings.guard != "off":
            import os
            import tempfile

            from pytest_solbench.guard.confine import read_env

            confined = tempfile.mkdtemp(prefix="solbench-confine-")
            os.chmod(confined, 0o711)  # kernels' processes, each a user of its own (own-user), pass through it
            settings = session.settings
            env.update({"SOLBENCH_CONFINE": "1", "SOLBENCH_CONFINE_ROOT": confined,
                        **read_env(settings.kernel_dirs, settings.problem_paths, settings.blob_root)})  # fmt: skip
        warm = "pytest_solbench.worker.execute:" + ("warm_up_cuda" if target.timed else "warm_up")
        # The judge; at the end it retires its kernels' processes (each within seconds: guard.reap) before it exits.
        runner = worker.WorkerPool(env=env, health_check=health, initializer=warm, exit_grace_s=60.0,
                                   spent=_judge_spent)  # fmt: skip
    with runner:
        yield runner
    if confined:
        import shutil

        shutil.rmtree(confined, ignore_errors=True)


def _queue_every_item(runner: Any, session: Any, items: list[pytest.Item], l2_flush: Any) -> None:
    """pytest runs items one at a time: queueing all their requests up front keeps every seat busy, while each item
    waits for its own. A baseline is queued once per GPU model the seats hold (it is timed beside its kernels)."""
    from pytest_solbench.calls import JUDGE_TARGET, judge_timeout_s
    from pytest_solbench.items import SolbenchItem

    for item in items:
        if isinstance(item, SolbenchItem):
            try:
                kernel, baseline = session.pipeline.plan(item.problem, item.workload, item.kernel, item.nodeid,
                                                         l2_flush)  # fmt: skip
            except Exception:  # the item meets the same error when it runs, and reports it as its own
                continue
            if kernel is not None:
                runner.submit(JUDGE_TARGET, kernel, judge_timeout_s(kernel.timeout_s))  # each request carries its limit
            for gpu in runner.gpus if baseline is not None else ():
                runner.submit(JUDGE_TARGET, baseline, judge_timeout_s(baseline.timeout_s), gpu=gpu)


@pytest.fixture(scope="session")
def solbench_clocks(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The GPU clocks: observed around every measurement (default), or locked and restored (--solbench-clocks lock)."""
    from pytest_solbench.measure import session_clocks
    from pytest_solbench.items import SESSION_KEY

    session = request.config.stash[SESSION_KEY]
    enabled = session.target.device.kind == "cuda" and session.settings.ray is None  # Ray: clocks of the nodes
    with session_clocks.session_clocks(session.settings.clocks, device_index=session.target.gpu_index, enabled=enabled) as state:
        yield state


@pytest.fixture(scope="session")
def solbench_l2_flush() -> int | None:
    """Bytes to read before each timed sample to evict L2: None sizes it from the device (max(2 x L2, 256 MiB));
    0 turns the flush off (warm-cache timings, as a conftest override)."""
    return None


@pytest.fixture
def solbench_capture(request: pytest.FixtureRequest) -> Any:
    """``with solbench_capture("my_problems/"): model(x)`` inside a test: ``pytest_solbench.capture``, the problems
    named for the test unless ``model=`` says otherwise, the ranking added to the test's report (``-rP`` shows it).
    Needs no ``--solbench``: capturing is an ordinary test; running the problems is the solbench run."""
    from contextlib import contextmanager

    import pytest_solbench

    default = request.node.originalname.removeprefix("test_")

    @contextmanager
    def capture(path: Any, model: str | None = None, hardware: str | None = None) -> Iterator[Any]:
        with pytest_solbench.capture(path, model=model or default, hardware=hardware) as captured:
            yield captured
        request.node.add_report_section("call", "solbench capture", captured.report)

    return capture


@pytest.fixture
def solbench_time(request: pytest.FixtureRequest) -> Any:
    """Time a kernel from your own test: ``m = solbench_time(fn, *args, **kwargs)`` returns a Measurement
    (``m.median_ms``, ``m.min_ms``, ``m.q1_ms``/``m.q3_ms``, ``m.n``, ``m.samples_ms``) taken under the items' timing
    contract (measure/user_call.py); the median is added to the test's user_properties (JUnit XML). Without a CUDA
    GPU, or under --solbench-device cpu, the test is skipped with the reason at setup, before its body makes CUDA
    tensors it could not make."""
    import torch

    if request.config.getoption("solbench_device", None) == "cpu" or not torch.cuda.is_available():
        pytest.skip("solbench_time times on a CUDA GPU: none is visible here (or --solbench-device cpu)")

    def timed(fn: Any, *args: Any, **kwargs: Any) -> Any:
        from pytest_solbench.measure.user_call import time_call

        max_time = request.config.getoption("solbench_max_time", None) or 2.0
        timer = request.config.getoption("solbench_timer", None) or "cupti"
        measurement = time_call(fn, args, kwargs, max_time_s=max_time, timer=timer)
        request.node.user_properties.append(("solbench_median_ms", measurement.median_ms))
        return measurement

    return timed

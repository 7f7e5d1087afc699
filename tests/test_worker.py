"""worker.py on CPU: calls, reuse, and each way a call can fail, followed by a working call on a fresh worker."""

from __future__ import annotations

from pathlib import Path
import os
import sys
import time

import pytest

from pytest_solbench.worker.pool import InProcessRunner, WorkerError, WorkerPool

T = 20.0  # generous per-call timeout for calls that should return at once


@pytest.fixture
def pool():
    with WorkerPool(1) as p:
        yield p


def test_call_returns_the_result_from_another_process(pool):
    result = pool.call("worker_targets:echo", {"x": [1, 2]}, T)
    assert result["payload"] == {"x": [1, 2]}
    assert result["pid"] != os.getpid()


def test_workers_are_reused(pool):
    first = pool.call("worker_targets:pid", None, T)
    assert pool.call("worker_targets:pid", None, T) == first
    assert pool.worker_pids() == [first]


def test_worker_imports_neither_pytest_nor_the_plugin(pool):
    loaded = pool.call("worker_targets:modules", None, T)
    assert "pytest" not in loaded and "_pytest" not in loaded
    assert "pytest_solbench.plugin" not in loaded
    assert "pytest_solbench.worker.pool" in loaded


def test_raising_target_is_a_runtime_error_and_the_worker_is_kept(pool):
    before = pool.call("worker_targets:pid", None, T)
    with pytest.raises(WorkerError) as info:
        pool.call("worker_targets:boom", 7, T)
    err = info.value
    assert err.status == "RUNTIME_ERROR"
    assert err.message == "ValueError: bad input 7"
    assert "in boom" in err.traceback_text and err.signal_name is None
    assert str(err).startswith("RUNTIME_ERROR: ValueError")
    assert pool.call("worker_targets:pid", None, T) == before


@pytest.mark.parametrize("runner", [WorkerPool, InProcessRunner])
def test_an_outcome_raised_with_the_error_comes_back_as_a_field(runner):
    """A target that must retire its worker sends its verdict as data: the status is never parsed from text."""
    from pytest_solbench.protocol import ItemOutcome, Status

    with runner() as r:
        with pytest.raises(WorkerError) as info:
            r.call("worker_targets:retire_with_outcome", "illegal memory access", T)
    assert info.value.status is Status.RUNTIME_ERROR
    assert info.value.outcome == ItemOutcome(Status.INCORRECT_NUMERICAL, "illegal memory access")


def assert_fresh_worker_works(pool, dead_pid):
    result = pool.call("worker_targets:echo", "again", T)
    assert result["payload"] == "again" and result["pid"] != dead_pid
    assert pool.worker_pids() == [result["pid"]]  # the dead one is gone, not leaked


def test_segfault_is_reported_with_the_signal_and_stderr_tail(pool):
    victim = pool.call("worker_targets:pid", None, T)
    with pytest.raises(WorkerError) as info:
        pool.call("worker_targets:segfault", None, T)
    err = info.value
    assert err.status == "RUNTIME_ERROR" and err.signal_name == "SIGSEGV"
    assert "worker died with SIGSEGV" in err.message
    assert "about to read address 0" in err.stderr_tail
    assert "Segmentation fault" in err.stderr_tail  # faulthandler's report, written by the dying worker
    assert "about to read" in err.details()
    assert_fresh_worker_works(pool, victim)


def test_os_exit_is_reported_with_the_exit_code(pool):
    victim = pool.call("worker_targets:pid", None, T)
    with pytest.raises(WorkerError) as info:
        pool.call("worker_targets:exit_hard", None, T)
    err = info.value
    assert err.status == "RUNTIME_ERROR" and err.exitcode == 3
    assert "worker died with exit code 3" in err.message
    assert "native write before os._exit" in err.stderr_tail
    assert_fresh_worker_works(pool, victim)


def test_hang_times_out_and_the_worker_is_killed(pool):
    victim = pool.call("worker_targets:pid", None, T)
    start = time.monotonic()
    with pytest.raises(WorkerError) as info:
        pool.call("worker_targets:spin", None, 2.0)
    elapsed = time.monotonic() - start
    assert info.value.status == "TIMEOUT" and "2 s" in info.value.message
    assert 1.9 <= elapsed < 10
    with pytest.raises(ProcessLookupError):
        os.kill(victim, 0)
    assert_fresh_worker_works(pool, victim)


def test_unpicklable_result_and_bad_target_are_runtime_errors(pool):
    with pytest.raises(WorkerError, match="could not be sent back"):
        pool.call("worker_targets:unpicklable", None, T)
    with pytest.raises(WorkerError, match="package.module:function"):
        pool.call("no_colon_here", None, T)
    with pytest.raises(WorkerError, match="ModuleNotFoundError"):
        pool.call("no_such_module_xyz:run", None, T)
    assert pool.call("worker_targets:echo", 1, T)["payload"] == 1


def test_failed_health_check_replaces_the_worker(tmp_path):
    with WorkerPool(1, health_check="worker_targets:health") as pool:
        first = pool.call("worker_targets:pid", None, T)
        with pytest.raises(WorkerError):
            pool.call("worker_targets:boom", None, T)
        assert pool.call("worker_targets:pid", None, T) == first  # healthy after a plain error: kept
        with pytest.raises(WorkerError, match="device-side assert"):
            pool.call("worker_targets:make_sick", str(tmp_path / "sick"), T)
        assert_fresh_worker_works(pool, first)


def test_health_check_returning_false_also_retires_the_worker():
    with WorkerPool(1, health_check="worker_targets:unhealthy") as pool:
        first = pool.call("worker_targets:pid", None, T)
        with pytest.raises(WorkerError):
            pool.call("worker_targets:boom", None, T)
        assert_fresh_worker_works(pool, first)


def test_a_result_the_pool_finds_spent_retires_its_worker_after_the_reply_came_back():
    """The judge's process asks to be replaced when it holds GPU memory it should not (``judge.referee.spent``)."""
    with WorkerPool(1, spent=lambda result: isinstance(result, dict) and result["payload"] == "spent") as pool:
        first = pool.call("worker_targets:pid", None, T)
        assert pool.call("worker_targets:echo", "kept", T)["pid"] == first
        assert pool.call("worker_targets:echo", "spent", T)["pid"] == first  # its result comes back whole
        assert_fresh_worker_works(pool, first)


def test_a_judge_off_the_gpu_is_never_spent():
    from pytest_solbench.judge.referee import spent

    assert spent("cpu") is False


def test_env_and_initializer_reach_the_worker():
    with WorkerPool(1, env={"SOLBENCH_TEST_VALUE": "42"}, initializer="worker_targets:slow_init") as pool:
        pool.start()
        assert pool.call("worker_targets:getenv", "SOLBENCH_TEST_VALUE", T) == "42"
        assert pool.call("worker_targets:getenv", "SOLBENCH_TEST_INITIALIZED", T) == "yes"


def test_two_workers_serve_two_calls_and_close_ends_them():
    pool = WorkerPool(2)
    pool.start()
    pids = pool.worker_pids()
    assert len(set(pids)) == 2
    pool.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(RuntimeError, match="closed"):
        pool.call("worker_targets:pid", None, T)


def test_fork_is_refused():
    with pytest.raises(ValueError, match="CUDA does not survive fork"):
        WorkerPool(1, start_method="fork")


def test_in_process_runner_has_the_same_interface():
    with InProcessRunner() as runner:
        assert runner.call("worker_targets:pid", None, T) == os.getpid()
        with pytest.raises(WorkerError) as info:
            runner.call("worker_targets:boom", 3, T)
        assert info.value.status == "RUNTIME_ERROR" and "bad input 3" in info.value.message
        with pytest.raises(WorkerError) as info:
            runner.call("worker_targets:sleep", 0.1, 0.05)
        assert info.value.status == "TIMEOUT"
    with pytest.raises(WorkerError, match="health check failed"):
        InProcessRunner(health_check="worker_targets:unhealthy").call("worker_targets:boom", 1, T)


def test_a_stopped_worker_is_a_timeout_that_says_so_long_before_its_limit(pool):
    """Red-team round 1: a kernel's SIGSTOP to its judge hung the session for 2 x timeout + 120 s per item."""
    victim = pool.call("worker_targets:pid", None, T)
    with pytest.raises(WorkerError) as info:
        pool.call("worker_targets:stop_self", None, 3600.0)  # the stop, not this limit, ends the call
    assert info.value.status == "TIMEOUT" and "stopped by a signal" in info.value.message
    assert_fresh_worker_works(pool, victim)


def test_a_plain_worker_refuses_a_frame_without_the_requests_nonce_and_its_group_dies_with_it():
    with WorkerPool(1, plain=True) as plain:
        child = plain.call("worker_targets:spawn_sleeper", None, T)
        with pytest.raises(WorkerError) as info:
            plain.call("worker_targets:extra_frame", None, T)
        assert info.value.malformed and "nonce" in info.value.message
        assert _ends(child), "the worker's child outlived it"


def test_a_plain_worker_reply_the_decoder_cannot_read_at_all_is_malformed_not_a_crash():
    """Red-team round 8, j04: a frame nested too deep for the JSON decoder (RecursionError) is a malformed reply,
    REWARD_HACK [reply-schema] for the judge, like any frame off the schema; it never leaves as the judge's crash."""
    with WorkerPool(1, plain=True) as plain:
        with pytest.raises(WorkerError) as info:
            plain.call("worker_targets:nested_frame", None, T)
        assert info.value.malformed and "RecursionError" in info.value.message


def _ends(pid: int) -> bool:
    """Whether process ``pid`` ends (or is a zombie) within a minute: killed, it is reaped by init at its own pace."""
    for _ in range(600):
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.1)
    return False


CONTROLLER = """
import sys, time
sys.path[:0] = {paths!r}
from pytest_solbench.worker.pool import WorkerPool
judge = WorkerPool()
print(*judge.call("worker_targets:start_kernel_with_child", None, 120), flush=True)
judge.call("worker_targets:kernel_sleeps", 600, 900)  # the judge is busy, waiting on its kernel, when this dies
"""


def test_a_judge_dies_with_its_controller_and_takes_its_kernels_processes_with_it() -> None:
    """Red-team round 7: pytest killed (SIGKILL, or SIGTERM, whose default ends it at once) left its judge running,
    in a session of its own, and the judge's kernels' processes with it: a judge waiting on its kernel never read
    the end of its own channel. A judge now gets SIGTERM when its parent dies and closes its pools first: the
    kernel's process and the child it left behind end too."""
    import signal
    import subprocess

    here = str(Path(__file__).resolve().parent)
    controller = subprocess.Popen([sys.executable, "-c", CONTROLLER.format(paths=[here, *sys.path])],
                                  stdout=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        assert controller.stdout is not None
        judge, kernel, child = (int(p) for p in controller.stdout.readline().split())
        time.sleep(1.0)  # the judge's second call under way (killed sooner, the test only shows less, never fails)
        controller.send_signal(signal.SIGKILL)
        controller.wait()
        assert _ends(judge) and _ends(kernel) and _ends(child)
    finally:
        controller.kill()
        controller.wait()


def test_warm_up_starts_aten_s_thread_pool_so_a_large_workload_adds_no_thread() -> None:
    """An honest kernel's larger workload made ATen start its CPU pool mid-item, which the thread tripwire read as
    the kernel's thread (the README's CPU job failed triton_rmsnorm at 64 and 512 tokens): a fresh interpreter."""
    import subprocess
    import sys

    code = ("import torch\nfrom pytest_solbench.worker.execute import warm_up\n"
            "from pytest_solbench.guard.integrity import thread_counts\nwarm_up('cpu')\nbefore = thread_counts()\n"
            "(torch.randn(512, 4096) * 2).sum(-1)\nprint(before.native_threads, thread_counts().native_threads)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    before, after = map(int, out.stdout.split())
    assert after == before


def test_a_failure_raised_inside_the_harness_shows_the_harness_frames_not_a_bare_message() -> None:
    """Kernel frames only, for a kernel's fault; but where no frame is the kernel's, the report must say where in
    pytest-solbench it broke (the first GPU run of the judge showed a bare torch message and nothing else)."""
    from pytest_solbench.worker import execute

    def inside() -> None:
        raise ValueError("broken in here")

    try:
        inside()
    except ValueError as exc:
        own = exc
    text = execute._short_traceback(own)
    assert text.startswith("ValueError: broken in here")
    assert "tests/test_worker.py" in text and "in inside" in text  # this file is outside the package: shown plainly
    fake_harness = execute._HARNESS
    try:
        execute._HARNESS = str(Path(__file__).resolve().parent)  # now every frame is "the harness's"
        text = execute._short_traceback(own)
    finally:
        execute._HARNESS = fake_harness
    assert "inside pytest-solbench" in text and "in inside" in text


def test_close_all_ends_every_open_pool_and_a_ray_seat_calls_it_before_it_is_killed(monkeypatch) -> None:
    """A Ray actor is killed from outside, where no finalizer runs: its seat closes the judge's kernel pools first,
    so their processes (and, confined, every process of theirs) do not outlive it."""
    import types

    from pytest_solbench.worker import pool as pools
    from pytest_solbench.worker.ray_seat import SeatActor

    opened = [pools.WorkerPool(plain=True), pools.WorkerPool(plain=True)]
    for pool in opened:
        assert pool.call("worker_targets:echo", [1], 60)["payload"] == [1]
    workers = [w for pool in opened for w in pool._workers]
    assert workers and all(w.alive for w in workers)
    pools.close_all()
    assert not any(w.alive for w in workers)
    called: list[bool] = []
    monkeypatch.setattr(pools, "close_all", lambda: called.append(True))
    SeatActor.close(types.SimpleNamespace(confined=None))
    assert called == [True]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the log through /proc/self/fd")
def test_a_workers_log_has_no_name_in_tmp_so_a_dead_judge_leaves_none_behind(tmp_path) -> None:
    """Red-team round 7: a kernel wrote 100 MB into its log, then crashed its judge, whose cleanup never ran: the
    log stayed in /tmp. The log is unlinked once the worker has it, read through the parent's descriptor."""
    import tempfile

    tempfile.tempdir = str(tmp_path)
    try:
        with WorkerPool(1) as pool:
            pool.call("worker_targets:pid", None, T)
            worker = next(iter(pool._workers))
            logs = [p for p in tmp_path.iterdir() if p.name.startswith("solbench-worker-")]
            assert worker.log_path.startswith("/proc/self/fd/") and logs == []
            with pytest.raises(WorkerError) as info:
                pool.call("worker_targets:exit_hard", None, T)
            assert "native write before os._exit" in info.value.stderr_tail  # still read, through the descriptor
    finally:
        tempfile.tempdir = None


@pytest.mark.skipif(not (sys.platform.startswith("linux") and os.geteuid() == 0), reason="draws users: root on Linux")
def test_a_judge_that_dies_leaves_no_process_of_the_users_it_drew() -> None:
    """Red-team round 7 (h02): a kernel truncated a file its judge had mapped, the judge died of SIGBUS without
    closing its pools, and what the kernel had forked ran on past pytest. The judge notes each user it draws in a
    file its parent reads: a judge that dies any other way than a clean exit has every process of them killed."""
    with WorkerPool(1) as judge:
        orphan = judge.call("worker_targets:draws_a_user_that_forks", None, T)
        with pytest.raises(WorkerError):
            judge.call("worker_targets:exit_hard", None, T)  # the judge goes, its pools never closed
        assert _ends(orphan)


@pytest.mark.skipif(not (sys.platform.startswith("linux") and os.geteuid() == 0), reason="draws users: root on Linux")
def test_a_dead_controllers_marks_are_acted_on_when_the_next_judge_starts(tmp_path) -> None:
    """Red-team round 7b (i04): a root kernel killed pytest, then its judge, before either could act on the marks
    file; its escapee outlived them and failed an honest kernel of the next session. A controller starting a judge
    first kills the processes noted in the marks files of controllers no longer alive."""
    import subprocess
    import tempfile

    from pytest_solbench.guard.confine import new_user
    from pytest_solbench.worker import pool as pools

    uid = new_user()
    escapee = subprocess.Popen(["sleep", "300"], user=uid, group=uid, extra_groups=[], start_new_session=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = Path(tempfile.gettempdir()) / f"{pools.MARKS_PREFIX}{int(dead.stdout)}-test"
    stale.write_text(f"user {uid}\n")
    try:
        with WorkerPool(1) as judge:
            judge.call("worker_targets:pid", None, T)
        escapee.wait(timeout=60)  # ended: killed (and waited for by the kill); sleep 300 ends no other way
        assert not stale.exists()
    finally:
        escapee.kill()
        escapee.wait()
        stale.unlink(missing_ok=True)


def test_the_interpreters_bf16_dot_multiplies_values_not_their_storage(monkeypatch) -> None:
    """Red-team rounds 37 and 73 (fb): Triton's interpreter ran ``tl.dot`` of bf16 operands on their raw 16-bit
    storage, and an honest bf16 GEMM was wrong by 1e10 on CPU. Widened to fp32 first, it is exact."""
    torch = pytest.importorskip("torch")
    triton = pytest.importorskip("triton")
    import triton.language as tl
    from triton.runtime import interpreter as triton_interpreter

    from pytest_solbench.worker import interpreter

    if os.environ.get("TRITON_INTERPRET") != "1":
        pytest.skip("the suite runs Triton interpreted (conftest); here it does not")
    builder = triton_interpreter.InterpreterBuilder
    monkeypatch.setattr(builder, "create_dot", builder.create_dot)  # put back after the test

    @triton.jit
    def dot(a_ptr, b_ptr, c_ptr, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr):
        rm, rn, rk = tl.arange(0, M), tl.arange(0, N), tl.arange(0, K)
        a = tl.load(a_ptr + rm[:, None] * K + rk[None, :])
        b = tl.load(b_ptr + rk[:, None] * N + rn[None, :])
        tl.store(c_ptr + rm[:, None] * N + rn[None, :], tl.dot(a, b))

    def error(dtype) -> float:
        a, b = torch.randn(16, 32, dtype=dtype), torch.randn(32, 16, dtype=dtype)
        c = torch.empty(16, 16)
        dot[(1,)](a, b, c, 16, 16, 32)
        return (c - a.float() @ b.float()).abs().max().item()

    assert interpreter.widen_bf16_dot() is True and interpreter.widen_bf16_dot() is True  # twice wraps once
    assert error(torch.bfloat16) < 1e-4 and error(torch.float16) < 1e-4
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    assert interpreter.widen_bf16_dot() is False  # nothing to widen on a GPU


def test_interpreted_autotuners_take_their_first_configuration_and_only_when_interpreting(monkeypatch) -> None:
    import types

    from pytest_solbench.worker import interpreter

    class Autotuner:  # the shape of triton.runtime.autotuner.Autotuner that matters: prune_configs(self, kwargs)
        configs = ["warps4", "warps8", "warps16"]

        def prune_configs(self, kwargs):
            return [c for c in self.configs if c != kwargs.get("drop")]

    fake = types.ModuleType("triton.runtime.autotuner")
    fake.Autotuner = Autotuner
    monkeypatch.setitem(sys.modules, "triton.runtime.autotuner", fake)
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    assert interpreter.first_config_autotune() is False
    assert Autotuner().prune_configs({}) == ["warps4", "warps8", "warps16"]
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert interpreter.first_config_autotune() is True
    assert interpreter.first_config_autotune() is True  # twice wraps once
    assert Autotuner().prune_configs({}) == ["warps4"]
    assert Autotuner().prune_configs({"drop": "warps4"}) == ["warps8"]  # the kernel's own pruning comes first

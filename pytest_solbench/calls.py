"""The worker requests of one item, and calling the runner: an outcome, or a ``Crash`` when none came back; with a
runner that spreads calls over machines (Ray), where a call ran."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_solbench import prechecks
from pytest_solbench.data.kernels import KernelSpec
from pytest_solbench.data.schema import Problem, Workload
from pytest_solbench.options import Settings
from pytest_solbench.protocol import ItemOutcome, ItemRequest, Status, TimingRequest, escape_controls
from pytest_solbench.sol.facts import WorkloadFacts

EXECUTE_TARGET = "pytest_solbench.worker.execute:run_item"  # --solbench-isolate none: kernel and verdict in-process
JUDGE_TARGET = "pytest_solbench.judge.referee:judge_item"  # the default: the judge's process decides
#: --solbench-timeout's default: a minute on a GPU, where the timed phase is capped at seconds; ten minutes on CPU,
#: where Triton kernels run in its interpreter (a GEMM workload takes minutes on a busy 2-core machine).
GPU_TIMEOUT_S, CPU_TIMEOUT_S = 60.0, 600.0
#: On a GPU a kernel's first workload may take this many times the timeout: it compiles, autotunes, warms up.
FIRST_CALL_ALLOWANCE = 5


@dataclass(frozen=True)
class Crash:
    """A call that did not return an outcome: the worker raised, died or hung."""

    status: Status
    message: str
    log: str
    details: str

    def __post_init__(self) -> None:
        for name in ("message", "log", "details"):  # a worker's stderr tail: a kernel's words, as in an outcome (j05)
            object.__setattr__(self, name, escape_controls(getattr(self, name)))


def item_request(settings: Settings, timed: bool, problem: Problem, workload: Workload, kernel: KernelSpec,
                 facts: WorkloadFacts, l2_flush: Any, *, timeout_s: float, rounds: int | None = None,
                 compile_kernel: bool = False) -> ItemRequest:  # fmt: skip
    """The request for one kernel on one workload; ``rounds=0`` times without checking (the baseline's)."""
    return ItemRequest(
        definition_path=str(problem.definition.path),
        workload_uuid=workload.uuid,
        kernel=kernel.to_payload(),
        device="cuda" if timed else "cpu",
        seed=settings.seed,
        rounds=settings.rounds if rounds is None else rounds,
        time_kernel=timed,
        compile_kernel=compile_kernel,
        timing=TimingRequest(settings.max_time_s, settings.timer, l2_flush),
        reduction_len=facts.reduction_len,
        count_flops=facts.needs_real_inputs and facts.work is None,
        count_touched=facts.bytes_provisional,
        guard=settings.guard != "off",
        allowed_rules=prechecks.allowed_rules(settings.guard, kernel),
        blob_root=str(settings.blob_root) if settings.blob_root else None,
        bind_by_name=settings.bind_by_name,
        timeout_s=timeout_s,
    )


def judge_timeout_s(timeout_s: float) -> float:
    """The judge's own limit: it holds the kernel's process to ``timeout_s`` itself, and leaves room for the
    reference."""
    return 2 * timeout_s + 120


def call(runner: Any, request: ItemRequest, timeout_s: float, *, judged: bool = True,
         gpu: str | None = None, limit_words: str = "--solbench-timeout") -> ItemOutcome | Crash:  # fmt: skip
    """The runner's outcome; a worker that raised, died or hung becomes a ``Crash`` with its stderr tail.

    ``judged``: the runner is the judge (see ``judge_timeout_s``). Otherwise (``--solbench-isolate none``) the item
    runs in-process. ``gpu``: the GPU model it must run on, for runners that place calls (Ray: a baseline)."""
    from pytest_solbench.worker.pool import WorkerError

    pinned = {"gpu": gpu} if gpu else {}
    try:
        if judged:
            outcome = runner.call(JUDGE_TARGET, request, judge_timeout_s(timeout_s), **pinned)
        else:
            outcome = runner.call(EXECUTE_TARGET, request, timeout_s, **pinned)
    except WorkerError as exc:
        status, message = exc.status, exc.message
        if status is Status.TIMEOUT and message.startswith(("pytest_solbench.", "initializer ")):
            message = _timeout_words(request, message, timeout_s, limit_words)
        lost = exc.outcome if isinstance(exc.outcome, ItemOutcome) else None
        # The kernel's own failing verdict, raised to replace a broken worker. Only a failure is taken: the worker
        # ran kernel code, so an outcome that claims a pass while its call raised is no verdict at all.
        if lost is not None and lost.status not in (Status.PASSED, Status.SKIPPED):
            status = lost.status
            message = (f"{lost.log}\n(the kernel broke the worker's CUDA context; the next item runs on a "
                       "fresh worker)")  # fmt: skip
        log = message + (f"\n--- worker stderr (last lines) ---\n{exc.stderr_tail}" if exc.stderr_tail else "")
        return Crash(status, message, log, f"worker stderr:\n{exc.stderr_tail}" if exc.stderr_tail else "")
    if not isinstance(outcome, ItemOutcome):
        raise TypeError(f"the runner returned {type(outcome).__name__}, not a protocol.ItemOutcome")
    return outcome


def _timeout_words(request: ItemRequest, message: str, timeout_s: float, limit_words: str) -> str:
    """A pool's timeout message (which names the plugin's own function) in the user's words."""
    if message.startswith("initializer "):
        return ("the worker process did not start in time (it imports torch and warms up the device): the machine is "
                "overloaded or the GPU does not answer; the next item starts a fresh one")  # fmt: skip
    who = "the reference" if request.kernel.get("is_reference") else f"kernel {request.kernel.get('name')}"
    if "stopped by a signal" in message:  # pool.STOPPED_GRACE_S: not a slow kernel, a stopped process
        return (f"the judge's process was stopped by a signal (SIGSTOP) while it ran {who}: a kernel's process can "
                "send one (it runs as the same user); it was killed and the next item runs in a fresh one")  # fmt: skip
    return (f"{who} did not finish within {timeout_s:g} s ({limit_words}); it was stopped and the next item runs in "
            "a fresh process")  # fmt: skip


def placement(runner: Any, request: ItemRequest, *, judged: bool = True) -> Any:
    """Where a runner that spreads calls (``worker.ray_runner``) ran this request: its ``Placement`` (seat, node,
    the device its actor saw, a retry's note); None for a local runner."""
    placed = getattr(runner, "placement", None)
    return placed(JUDGE_TARGET if judged else EXECUTE_TARGET, request) if placed is not None else None

"""One item decided by the judge: inputs, reference, the kernel's calls in its own process, compare, verdict.

``judge_item`` runs in the judge's process (a worker of the controller that never imports kernel code). It drives
the kernel's process (a plain worker: JSON replies only, ``worker.harness`` on its side) through ``Kernel``: it makes
each round's inputs from the seed, runs the reference on clones, shares copies of the inputs and NaN-poisoned
outputs with the kernel's process (``worker.shm``), compares those inputs after the call byte for byte with its
private copy (those the reference updates in place with what it writes there, ``worker.inplace``), compares the
outputs in its own memory and decides the status. The kernel's process can only report: a reply off the schema
(``judge.reply``) is ``REWARD_HACK [reply-schema]``, a tripwire it reports is that rule, and the timed phase's
claims are checked by ``judge.timed``.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from typing import Any, Callable, Iterator

from pytest_solbench.judge import reply as schema
from pytest_solbench.protocol import ItemOutcome, ItemRequest, Status, failure
from pytest_solbench.worker import execute
from pytest_solbench.worker.pool import TenantPools, WorkerError, unreadable
from pytest_solbench.worker.rounds import make_problem_inputs, round_seed
from pytest_solbench.worker.shm import Arena, passed_fds, torch_dtype

HARNESS = "pytest_solbench.worker.harness"
HEALTH = "pytest_solbench.worker.execute:health_check"
SHARED_MEMORY = "shared-memory"  # a shared file cut or grown by the kernel's process (``worker.shm.Arena``; a file
# only where there are no sealed memfds: those keep their size)
# Per device kind: the kernels' processes (one pool per kernel, and a spare), each confined first thing by its
# initializer; and, apart, the reference's (never confined, and never a kernel's).
_POOLS: dict[tuple[str, bool], TenantPools] = {}


class Verdict(Exception):
    """Raised anywhere below with the item's outcome: the first failure decides."""

    def __init__(self, outcome: ItemOutcome) -> None:
        super().__init__(outcome.log)
        self.outcome = outcome


def hack(rule: str, message: str, **fields: Any) -> Verdict:
    return Verdict(failure(Status.REWARD_HACK, f"[{rule}] {message}", rule=rule, **fields))


def kernel_pools(device: str, reference: bool = False) -> TenantPools:
    """The processes that run kernels (``reference``: the one that runs the problem's reference) on this device.
    A kernel's process is confined by its pool's initializer, before its warm-up starts any thread; as many live
    as before the reference had pools of its own: the reference's, one kernel's and a spare."""
    kind = "cuda" if device.startswith("cuda") else "cpu"
    if (kind, reference) not in _POOLS:
        warm = "pytest_solbench.worker.execute:" + ("warm_up" if reference else "confined_warm_up")
        warm += "_cuda" if kind == "cuda" else ""
        _POOLS[kind, reference] = TenantPools(lambda payload: "unused", max_live=2, spare=not reference, plain=True,
                                              initializer=warm, health_check=HEALTH, shared_folders=True)  # fmt: skip
    return _POOLS[kind, reference]


_ROUND_TRIP_MS: dict[str, float] = {}  # per kernel: the least round trip of an empty request before its import
PINGS = 3
PAUSE_WAIT_S = 1.0  # how long ``_stopped`` waits for the processes it signalled to stop

_STEPS = {"load": "loading", "call": "a correctness call", "timed": "its timed calls", "ping": "an empty request",
          "attach_sets": "mapping the judge's tensors", "checked": "its checks after the timed calls"}


class Kernel:
    """The kernel's process as the judge sees it: requests out, validated plain replies back, one deadline."""

    def __init__(self, request: ItemRequest) -> None:
        self.request, self.device = request, request.device
        self.tenant = request.tenant
        self.pools = kernel_pools(request.device, reference=bool(request.kernel.get("is_reference")))
        self.pools.pool(self.tenant)  # may retire an older kernel's pool first: not on this item's clock
        self.deadline = time.monotonic() + request.timeout_s
        self.reply_ms = 0.0  # the last request's round trip: sent -> reply arrived (``WorkerPool.last_reply_ms``)
        self.key = f"{request.tenant}:compile={request.compile_kernel}"
        self._arenas: list[Arena] = []  # open exchanges: written out before each request, read back after each reply
        self.destination_passing = False  # as ``load`` found it

    def ask(self, what: str, payload: dict[str, Any], validate: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        remaining = max(1.0, self.deadline - time.monotonic())
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()  # the shared buffers' contents land before the kernel's process reads them
        pool = self.pools.pool(self.tenant)
        self._exchanged([arena.push() for arena in self._arenas])
        pulled: list[str | None] = []  # read back as the reply arrives, before the scan that follows it
        try:
            value = pool.call(f"{HARNESS}:{what}", payload, remaining, fds=passed_fds(payload),
                              on_reply=lambda: pulled.extend(arena.pull() for arena in self._arenas))  # fmt: skip
            self.reply_ms = pool.last_reply_ms
            self._exchanged(pulled)
        except WorkerError as exc:
            self._exchanged(pulled)  # a process that died after it cut a shared file (its own SIGBUS): the cut counts
            if exc.malformed or exc.rule:
                self.pools.retire(self.tenant)
                raise hack(exc.rule or schema.RULE, exc.message) from None
            tail = f"\n--- kernel process stderr (last lines) ---\n{exc.stderr_tail}" if exc.stderr_tail else ""
            message = exc.message
            if exc.status == Status.TIMEOUT and exc.signal_name != "SIGSTOP":  # a stop says so, not "did not finish"
                step = _STEPS.get(what, what) if what != "timed" or self.device.startswith("cuda") else (
                    "the judge's short batch of calls (CPU mode's twin of the timed calls)")  # fmt: skip
                message = (f"the kernel did not finish {step} within the item's "
                           f"{self.request.timeout_s:g} s (--solbench-timeout); its process was killed")  # fmt: skip
            raise Verdict(failure(exc.status, message + tail)) from None
        try:
            return validate(value)
        except Exception as exc:  # noqa: BLE001  not only a ReplyError: a value nested too deep for repr (round 8, j04)
            self.pools.retire(self.tenant)
            why = exc if isinstance(exc, schema.ReplyError) else unreadable(exc)
            raise hack(schema.RULE, f"the kernel's process answered {what} off the schema: {why}") from None

    def _exchanged(self, whys: list[str | None]) -> None:
        """A shared file the kernel's process cut or grew (``Arena.push``/``pull`` put it back) fails its item."""
        found = [why for why in whys if why]
        if found:
            self.pools.retire(self.tenant)
            raise hack(SHARED_MEMORY, found[0])

    def paused(self) -> contextlib.AbstractContextManager:
        """Every process of this judge's kernels stopped while the block runs (``_stopped``): what the judge measures
        of its own there (the outside clock's fixed costs) is not slowed by threads a kernel left spinning on the
        host's cores to raise what is subtracted from its batch and allowed on top (red-team round 8, m2)."""
        return _stopped(_worker_pids(self.pools))

    @contextlib.contextmanager
    def arena(self) -> Iterator[Arena]:
        """Shared tensors for this kernel's process, in its pool's own folders, exchanged with it around each request
        while the block lasts (``Arena.push``, ``Arena.pull``)."""
        with Arena(self.device, self.pools.pool(self.tenant).shared_dirs) as arena:
            self._arenas.append(arena)
            try:
                yield arena
            finally:
                self._arenas.remove(arena)

    def load(self) -> bool:
        """Import the kernel over there; whether it is destination-passing."""
        request = self.request
        payload = {"key": self.key, "kernel": request.kernel, "definition_path": request.definition_path,
                   "blob_root": request.blob_root, "bind_by_name": request.bind_by_name, "guard": request.guard,
                   "allowed_rules": list(request.allowed_rules),
                   "compile_kernel": request.compile_kernel}  # fmt: skip
        if self.key not in _ROUND_TRIP_MS:  # measured while the process holds no code of the kernel's
            _ROUND_TRIP_MS[self.key] = min(self.ping_ms() for _ in range(PINGS))
        loaded = self.ask("load", payload, schema.load)
        if "failure" in loaded:
            raise Verdict(failure(loaded["failure"], loaded["error"]))
        tripped(loaded["trip"])
        self.destination_passing = bool(loaded["destination_passing"])
        return self.destination_passing

    def ping_ms(self) -> float:
        """The round trip of one empty request to the kernel's process, in ms, as the outside clock's is taken."""
        self.ask("ping", {}, schema.ping)
        return self.reply_ms

    @property
    def round_trip_ms(self) -> float:
        """The round trip the outside clock may subtract: measured before the kernel was imported, so code of the
        kernel's that slows its own process's answers (to inflate what is subtracted) cannot raise it."""
        return _ROUND_TRIP_MS.get(self.key, 0.0)

    def healthy(self) -> bool:
        try:
            return self.pools.pool(self.tenant).call(HEALTH, None, 60.0) is not False
        except WorkerError:
            return False


def tripped(trip: dict[str, str] | None, **fields: Any) -> None:
    """A tripwire the kernel's own process reported: believed, since it can only hurt that kernel."""
    if trip is not None:
        raise hack(trip["rule"], trip["message"], **fields)


def judge_item(request: ItemRequest) -> ItemOutcome:
    """The item's outcome; a failure on the GPU that left the kernel's process unhealthy (an illegal address, a
    device-side assert) retires that process, so the kernel's next item starts on a fresh one."""
    _undumpable_once()
    with _kernels_stopped(request):
        kernel = Kernel(request)
        try:
            outcome = _judge(request, kernel)
        except Verdict as verdict:
            outcome = verdict.outcome
    failed = outcome.status not in (Status.PASSED, Status.SKIPPED, Status.TIMEOUT) and outcome.rule != schema.RULE
    if failed and request.device.startswith("cuda") and not kernel.healthy():
        kernel.pools.retire(kernel.tenant)
        note = "\n(the kernel broke its process's CUDA context; its next item runs in a fresh process)"
        outcome = replace(outcome, log=outcome.log + note)
    return outcome


def _kernels_stopped(request: ItemRequest) -> contextlib.AbstractContextManager:
    """A baseline (the reference, timed) is timed with every kernel's process stopped: the first kernel that passed
    on the workload was timed just before, and its process, or a helper thread it left running, could keep the GPU or
    the host busy while the reference is timed, inflating the baseline and so every kernel's score on that workload
    (red-team round 8, m4). Stopped, not closed: a closed process would import, build and tune its kernel again at
    its next item (seconds to a minute per workload). Each kernel's process answered its last request after its
    device was synchronized, and no thread of it may still run the kernel's code then (``Tripwires.busy``), so
    nothing of it is left queued on the GPU when it stops."""
    if not (request.time_kernel and request.kernel.get("is_reference")):
        return contextlib.nullcontext()
    kind = "cuda" if request.device.startswith("cuda") else "cpu"
    return _stopped(_worker_pids(_POOLS.get((kind, False))))


def _worker_pids(pools: Any) -> list[int]:
    """The processes of a judge's pools (none under ``--solbench-isolate none``, or where no pool was made)."""
    return [pid for pids in getattr(pools, "worker_pids", dict)().values() for pid in pids]


@contextlib.contextmanager
def _stopped(pids: list[int]) -> Iterator[None]:
    """``pids`` stopped (SIGSTOP) while the block runs, then let go (SIGCONT). Processes it cannot stop (gone, or
    not its to signal) are left as they are."""
    import os
    import signal

    from pytest_solbench.worker.pool import is_stopped

    stopped = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        except OSError:
            pass
    deadline = time.monotonic() + PAUSE_WAIT_S
    while stopped and not all(is_stopped(pid) for pid in stopped) and time.monotonic() < deadline:
        time.sleep(0.001)
    try:
        yield
    finally:
        for pid in stopped:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGCONT)


def _undumpable_once() -> None:
    """The judge's own memory (the private input copies, the expected outputs) and descriptors under /proc closed
    to the kernels' processes, which run as the same user; only in a worker of the plugin (never pytest's process)."""
    import os

    from pytest_solbench.guard import confine

    if os.environ.get(confine.ENV_ON) == "1" and not _UNDUMPABLE:
        _UNDUMPABLE.append(confine.undumpable())


_UNDUMPABLE: list[bool] = []


def _judge(request: ItemRequest, kernel: Kernel) -> ItemOutcome:
    """The correctness contract (DESIGN §5) round by round, then the timed phase (``judge.timed``)."""
    from pytest_solbench.judge import timed

    problem = execute._problem(request.definition_path, request.blob_root, request.bind_by_name)
    definition = problem.definition
    workload = execute._workload(problem, request.workload_uuid)
    axis_values = definition.axis_values(workload.axes)
    try:
        reference = execute._reference(definition)
    except Exception as exc:
        return failure(Status.INVALID_REFERENCE, f"the reference does not load: {execute._short_traceback(exc)}")
    dps = kernel.load()
    worst: dict[str, dict[str, float]] = {}
    counted, updated, kernel_names = None, {}, None
    for round_index in range(request.rounds):
        seed = round_seed(request.seed, workload.uuid, round_index)
        args = make_inputs(problem, workload, axis_values, seed, request)
        if round_index == 0:
            broken = execute._broken_constraint(definition, axis_values, args)
            if broken:
                return failure(Status.INVALID_REFERENCE, broken)
            if request.count_flops:
                counted = execute._count_flops(reference, args)
        done = execute._expected(reference, args, definition, request.device)
        if isinstance(done, ItemOutcome):
            return done
        expected, updated = done
        last = round_index == request.rounds - 1
        where = f"round {round_index + 1} (seed {seed})"
        wrong, kernel_names = checked_call(kernel, definition, workload, args, expected, updated, where, worst,
                                           kernels=last)  # fmt: skip
        if wrong is not None:
            return wrong
        del expected
    correctness = execute._summarize_errors(worst) if request.rounds else None
    # The input bytes the timed inputs reach (routed experts, paged caches), found here where no kernel code runs.
    touched = None
    if request.count_touched:
        touched = execute._touched(problem, workload, axis_values, reference, request, timed.first_set_seed(request,
                                                                                                           workload))
    try:
        measured = timed.check_timed(kernel, request, problem, workload, axis_values, reference, set(updated),
                                     kernel_names)  # fmt: skip
    except Verdict as verdict:
        raise Verdict(_with(verdict.outcome, correctness=correctness)) from None
    if request.rounds and request.guard and "vendor-op" not in request.allowed_rules and request.tenant != "reference":
        # One more checked call after the timed ones, which records its operators as every checked call does: a
        # kernel that ran the vendor op only once the correctness rounds were over passed (red-team round 19, w08).
        args = make_inputs(problem, workload, axis_values, round_seed(request.seed, workload.uuid, request.rounds),
                           request)  # fmt: skip
        done = execute._expected(reference, args, definition, request.device)
        wrong = done if isinstance(done, ItemOutcome) else checked_call(
            kernel, definition, workload, args, *done, "a checked call after the timed ones", {})[0]
        if wrong is not None:
            return replace(wrong, kernel_timing=measured)
    return ItemOutcome(Status.PASSED, correctness=correctness, kernel_timing=measured, destination_passing=dps,
                       flops_by_dtype=counted, touched_bytes=touched)  # fmt: skip


def checked_call(kernel: Kernel, definition: Any, workload: Any, args: list, expected: list, updated: dict, where: str,
                 worst: dict[str, dict[str, float]], kernels: bool = False) -> tuple[ItemOutcome | None, Any]:
    """One untimed call on copies of ``args`` in shared memory, held to the reference's ``expected`` outputs and its
    in-place ``updated`` inputs: the failure it shows (None) and the kernels it launched (when ``kernels``). The
    kernel's process records the operators the call dispatches (``guard.dispatched``)."""
    from pytest_solbench.data import inputs
    from pytest_solbench.guard import tripwires
    from pytest_solbench.worker import inplace

    request = kernel.request
    with kernel.arena() as arena:
        shared = [arena.share(a) for a in args]
        outs = [arena.share(o) for o in inputs.allocate_outputs(definition, definition.axis_values(workload.axes),
                                                                 request.device)]  # fmt: skip
        answer = kernel.ask("call", {"key": kernel.key, "device": request.device, "inputs": [d for _, d in shared],
                                     "outputs": [d for _, d in outs], "kernels": kernels}, schema.call)  # fmt: skip
        if "error" in answer:
            return failure(Status.RUNTIME_ERROR, answer["error"]), None
        tripped(answer["trip"])
        names = [s.name for s in definition.inputs]
        trip = tripwires.mutated(inputs.changed(args, [t for t, _ in shared]), names, set(updated))  # vs private
        if trip is not None:
            raise hack(trip.rule, trip.message)
        got = received(definition, kernel.destination_passing, answer["outputs"], [t for t, _ in outs])
        wrong = inplace.verdict(definition, workload, request.reduction_len, [t for t, _ in shared], args, updated,
                                where, worst)  # fmt: skip
        return wrong or execute._compare(definition, workload, request, got, expected, where, worst), \
            answer["kernel_names"]  # fmt: skip


def _with(outcome: ItemOutcome, **fields: Any) -> ItemOutcome:
    return replace(outcome, **{k: v for k, v in fields.items() if getattr(outcome, k) is None})


def make_inputs(problem: Any, workload: Any, axis_values: dict[str, int], seed: int, request: ItemRequest) -> list:
    """One set of inputs from a seed, made here in the judge; a missing blob skips, any other failure is the
    problem's."""
    from pytest_solbench.data import inputs

    try:
        return make_problem_inputs(problem, workload, axis_values, seed, request.device, request.blob_root)
    except inputs.MissingBlob as exc:
        raise Verdict(failure(Status.SKIPPED, f"input blob missing: {exc}")) from None
    except Exception as exc:
        why = f"making inputs failed: {execute._short_traceback(exc)}"
        raise Verdict(failure(Status.INVALID_REFERENCE, why)) from None


def received(definition: Any, dps: bool, described: list | None, buffers: list) -> list:
    """The outputs to compare, from the judge's own buffers: a destination-passing kernel's as written; a
    value-returning kernel's as its process copied them in, with what it said it returned standing in where the
    shape or dtype differs (the comparison then names the difference)."""
    import torch

    if dps:
        return list(buffers)
    described = described or []
    if len(described) != len(definition.outputs):
        raise Verdict(failure(Status.INCORRECT_SHAPE, f"the kernel returned {len(described)} outputs; "
                              f"{definition.name} has {len(definition.outputs)}"))  # fmt: skip
    got: list[Any] = []
    for spec, desc, buffer in zip(definition.outputs, described, buffers):
        if desc["kind"] == "number":
            value = desc["value"]
            got.append(float(value) if isinstance(value, str) else value)
        elif desc["kind"] == "other":
            raise Verdict(failure(Status.INCORRECT_DTYPE, f"output {spec.name!r}: is a {desc['type']}, expected a "
                                  "torch.Tensor (subclasses are not accepted)"))  # fmt: skip
        elif desc["dtype"] == str(buffer.dtype).removeprefix("torch.") and list(buffer.shape) == desc["shape"]:
            got.append(buffer)
        else:
            try:
                dtype = torch_dtype(desc["dtype"])
            except ValueError:
                raise Verdict(failure(Status.INCORRECT_DTYPE, f"output {spec.name!r}: got dtype {desc['dtype']}, "
                                      f"expected {spec.dtype}")) from None  # fmt: skip
            got.append(torch.empty(desc["shape"], dtype=dtype, device="meta"))
    return got

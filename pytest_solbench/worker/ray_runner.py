"""Items' requests run in Ray actors, one GPU each, on any node of a cluster (``--solbench-ray``; docs/ray.md).

The runner has the worker pools' interface (``call(target, payload, timeout_s)``); ``placement`` tells where a
call ran. A *seat* is one placement-group bundle (one GPU, or one CPU in CPU mode) served by one thread here; one
actor lives in it: the judge of that seat (``ray_seat.SeatActor``), which runs only the trusted targets it is
given (the judge's ``judge_item``) and never imports kernel code. The judge spawns each kernel's process on its
node as it does on one machine (``judge.kernel.kernel_pools``: one pool per kernel, JSON replies only), so a
kernel's code never shares a process with another kernel or the reference. ``submit`` queues a call, ``call``
waits for one: the session queues every item's requests when its first item starts, so all seats work while pytest
waits on each item in turn. ``_choose`` says which job a seat takes. An actor that dies under a call (its node
lost, its process killed) costs that call one retry on another seat; a call past its timeout kills its actor and
fails TIMEOUT. ``gpu=NAME`` pins a call to seats of that GPU model (a baseline is timed beside its kernels).
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from pytest_solbench.worker.pool import RUNTIME_ERROR, TIMEOUT, WorkerError, worker_path
from pytest_solbench.worker.ray_seat import SeatActor

RAY_MISSING = ("--solbench-ray needs Ray, which is not installed in this environment: "
               "pip install 'pytest-solbench[ray]' (or pip install ray)")  # fmt: skip
CPU_SEATS_MAX = 4  # CPU mode checks correctness only: more actors of torch each would cost memory, not time
_ADDRESS = re.compile(r"^(ray://)?\[?([\w.\-:]+?)\]?:(\d+)$")


class ClusterError(Exception):
    """The cluster cannot be used as asked: the message is in the user's words (the plugin makes it a usage error)."""


@dataclass(frozen=True)
class Placement:
    """Where a call ran: the seat, the Ray node and the device its actor saw; ``note`` says when it was retried."""

    seat: int
    node: str
    device: dict[str, Any]  # measure.device.DeviceInfo as a dict
    note: str = ""


@dataclass(eq=False)
class _Job:
    target: str
    payload: Any
    tenant: str
    timeout_s: float
    gpu: str | None  # the GPU model it must run on, or None: any seat
    future: Future = field(default_factory=Future)
    wanted: bool = False  # pytest waits for it
    deaths: int = 0
    avoid: int | None = None  # the seat whose actor died under it: its retry goes elsewhere when it can
    note: str = ""


@dataclass(eq=False)
class _Seat:
    """One bundle and the judge actor living in it (None until booted again after a loss), served by one thread."""

    index: int
    actor: Any = None
    serving: str | None = None  # the tenant of the job it took last: its kernel's process is warm on this seat
    device: dict[str, Any] = field(default_factory=dict)
    node: str = ""

    @property
    def gpu(self) -> str:
        return str(self.device.get("name", ""))


def check_address(address: str | None) -> None:
    """A usage error in the user's words before Ray tries for minutes: the form, then that something answers."""
    if address in (None, "auto", "local"):
        return
    match = _ADDRESS.match(str(address))
    if not match:
        raise ClusterError(f"--solbench-ray {address!r}: expected HOST:PORT, ray://HOST:PORT, auto (the cluster this "
                           "machine belongs to) or local (a cluster started for this session)")  # fmt: skip
    host, port = match.group(2), int(match.group(3))
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        raise ClusterError(f"--solbench-ray {address}: nothing answers at {host}:{port} "
                           f"({exc.strerror or exc}); is the Ray head node running there?") from None  # fmt: skip


def connect(address: str | None, device: str, *, env_of: dict[str, dict[str, str]], health_check: str | None,
            initializer_of: dict[str, str], targets: tuple[str, ...],
            init_timeout_s: float = 300.0) -> RayRunner:  # fmt: skip
    """Join (or start) the cluster, reserve one seat per GPU (per CPU in CPU mode), boot a judge actor in each.
    ``env_of`` and ``initializer_of`` say, per kind ("cuda" or "cpu"), the actors' environment and first call;
    ``targets``: the only targets the actors may run (trusted code: kernels run in processes the targets spawn)."""
    try:
        import ray
    except ImportError:
        raise ClusterError(RAY_MISSING) from None
    check_address(address)
    import logging

    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ClusterError(f"--solbench-ray {address or ''}: could not join the Ray cluster: {first}") from None
    resources = ray.cluster_resources()
    gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 0))
    if device == "cuda" and gpus == 0:
        ray.shutdown()
        raise ClusterError(f"--solbench-device cuda: the Ray cluster at {address or 'auto'} has no GPU")
    kind = "cuda" if gpus and device != "cpu" else "cpu"
    seats = gpus if kind == "cuda" else min(cpus, CPU_SEATS_MAX)
    if seats < 1:
        ray.shutdown()
        raise ClusterError(f"--solbench-ray {address or ''}: the cluster offers no CPU to run an actor on")
    runner = RayRunner(ray, kind, seats, env=env_of[kind], health_check=health_check, initializer=initializer_of[kind],
                       targets=targets, init_timeout_s=init_timeout_s)  # fmt: skip
    try:
        runner.start()
    except BaseException:
        runner.close()
        raise
    return runner


class RayRunner:
    """``call``/``submit`` jobs to seats on a Ray cluster; ``placement`` tells where a call ran."""

    def __init__(self, ray: Any, kind: str, seats: int, *, env: dict[str, str], health_check: str | None,
                 initializer: str | None, targets: tuple[str, ...] | None = None, init_timeout_s: float = 300.0,
                 health_timeout_s: float = 60.0, retries: int = 1) -> None:  # fmt: skip
        self.ray, self.kind, self.env = ray, kind, env
        self.targets = targets  # None: any (tests, benchmarks); the plugin passes the judge's target alone
        self.health_check, self.initializer, self.retries = health_check, initializer, retries
        self.init_timeout_s, self.health_timeout_s = init_timeout_s, health_timeout_s
        self.seats = [_Seat(i) for i in range(seats)]
        self._pending: list[_Job] = []
        self._jobs: dict[str, _Job] = {}  # submitted and not yet collected by call()
        self._placements: dict[str, Placement] = {}
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._group: Any = None
        self._actor_class = ray.remote(SeatActor)

    # ------------------------------------------------------------ start

    def start(self) -> None:
        from ray.util.placement_group import placement_group

        bundle = {"GPU": 1} if self.kind == "cuda" else {"CPU": 1}
        self._group = placement_group([bundle] * len(self.seats), strategy="SPREAD")
        try:
            self.ray.get(self._group.ready(), timeout=self.init_timeout_s)
        except self.ray.exceptions.GetTimeoutError:
            raise ClusterError(f"--solbench-ray: {len(self.seats)} x {bundle} could not be reserved within "
                               f"{self.init_timeout_s:g} s (busy with other jobs?)") from None  # fmt: skip
        refs = [self._boot(seat) for seat in self.seats]
        for seat, ref in zip(self.seats, refs):
            try:
                self._settle(seat, ref, "starting")
            except WorkerError as exc:
                raise ClusterError(f"--solbench-ray: seat {seat.index}: {exc.message}") from None
        for seat in self.seats:
            thread = threading.Thread(target=self._serve, args=(seat,), name=f"solbench-ray-seat-{seat.index}",
                                      daemon=True)  # fmt: skip
            thread.start()
            self._threads.append(thread)

    def _boot(self, seat: _Seat) -> Any:
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        resources = {"num_gpus": 1, "num_cpus": 0} if self.kind == "cuda" else {"num_cpus": 1}
        seat.actor = self._actor_class.options(
            **resources,
            scheduling_strategy=PlacementGroupSchedulingStrategy(self._group, placement_group_bundle_index=seat.index),
            max_restarts=0,
            max_task_retries=0,
        ).remote(dict(self.env), worker_path(), self.initializer, self.kind)
        return seat.actor.ready.remote()

    def _settle(self, seat: _Seat, ref: Any, what: str) -> None:
        """Wait for a booted actor; raise WorkerError if its initializer failed, ClusterError if it never came."""
        try:
            info = self.ray.get(ref, timeout=self.init_timeout_s)
        except Exception as exc:
            self._discard(seat)
            raise ClusterError(f"seat {seat.index}: an actor did not start ({what}): {_first_line(exc)}") from None
        seat.device, seat.node = info["device"], info["node"]
        if info["init_error"]:
            self._discard(seat)
            raise WorkerError(RUNTIME_ERROR, f"the actor's initializer failed: {info['init_error']}")

    @property
    def gpus(self) -> list[str]:
        """The device models the seats hold, each once (CPU mode: the host's processor)."""
        return list(dict.fromkeys(seat.gpu for seat in self.seats if seat.gpu))

    def describe(self) -> str:
        held = ", ".join(f"{n} x {name}" for name, n in Counter(seat.gpu for seat in self.seats).items())
        return f"{len(self.seats)} seats on {len({seat.node for seat in self.seats})} node(s): {held}"

    # ------------------------------------------------------------ jobs

    def submit(self, target: str, payload: Any, timeout_s: float, *, gpu: str | None = None) -> None:
        """Queue ``target(payload)`` to run as soon as a seat is free; ``call`` with the same arguments collects it."""
        self._job(target, payload, timeout_s, gpu)

    def call(self, target: str, payload: Any, timeout_s: float, *, gpu: str | None = None) -> Any:
        """Run ``target(payload)`` on a seat (or collect the job ``submit`` queued) and return its result."""
        key = _key(target, payload, gpu)
        job = self._job(target, payload, timeout_s, gpu, wanted=True)
        try:
            return job.future.result()
        finally:
            with self._cond:
                self._jobs.pop(key, None)

    def placement(self, target: str, payload: Any, *, gpu: str | None = None) -> Placement | None:
        return self._placements.get(_key(target, payload, gpu))

    def _job(self, target: str, payload: Any, timeout_s: float, gpu: str | None, wanted: bool = False) -> _Job:
        if self.targets is not None and target not in self.targets:  # the actors are trusted: no kernel code there
            raise ValueError(f"the Ray runner's actors run only {', '.join(self.targets)}, not {target}")
        key = _key(target, payload, gpu)
        with self._cond:
            job = self._jobs.get(key)
            if job is None:  # a payload without a tenant (a harness call) counts as one tenant, as in a pool
                job = self._jobs[key] = _Job(target, payload, getattr(payload, "tenant", None) or "harness", timeout_s,
                                             gpu)  # fmt: skip
                if self._closed:
                    job.future.set_exception(RuntimeError("the Ray runner is closed"))
                elif gpu is not None and gpu not in self.gpus:
                    job.future.set_exception(WorkerError(RUNTIME_ERROR, f"no seat of this Ray cluster holds a {gpu}"))
                else:
                    self._pending.append(job)
            job.wanted = job.wanted or wanted
            self._cond.notify_all()
        return job

    def _take(self, seat: _Seat) -> _Job | None:
        with self._cond:
            while not self._closed:
                job = self._choose(seat)
                if job is not None:
                    self._pending.remove(job)
                    seat.serving = job.tenant
                    return job
                self._cond.wait()
            return None

    def _choose(self, seat: _Seat) -> _Job | None:
        """A job of the seat's own tenant (its kernel's process is warm here), else of a tenant no other seat
        serves, else of a tenant with more jobs queued than seats serving it; among them, the one pytest waits for
        first. Otherwise none: the seat waits rather than start a kernel's process for a job another will take."""
        def elsewhere(job: _Job) -> bool:  # another seat could take it
            return any(s is not seat and job.gpu in (None, s.gpu) for s in self.seats)

        fits = [j for j in self._pending
                if j.gpu in (None, seat.gpu) and not (j.avoid == seat.index and elsewhere(j))]  # fmt: skip
        queued = Counter((j.tenant, j.gpu) for j in fits)

        def helpers(job: _Job) -> int:
            return sum(1 for s in self.seats if s is not seat and s.serving == job.tenant and job.gpu in (None, s.gpu))

        for choice in ([j for j in fits if j.tenant == seat.serving],
                       [j for j in fits if helpers(j) == 0],
                       [j for j in fits if queued[(j.tenant, j.gpu)] > helpers(j)]):  # fmt: skip
            if choice:
                return next((j for j in choice if j.wanted), choice[0])
        return None

    def _serve(self, seat: _Seat) -> None:
        while (job := self._take(seat)) is not None:
            try:
                self._run(seat, job)
                with self._cond:
                    self._cond.notify_all()  # a waiting seat may take what this one leaves
            except ClusterError as exc:  # the seat's bundle is gone for good: its job goes back, the seat retires
                self._retire(seat, job, str(exc))
                return
            except Exception as exc:  # Ray could not carry the call or its result: the item fails, pytest goes on
                self._discard(seat)
                if not job.future.done():
                    job.future.set_exception(WorkerError(RUNTIME_ERROR, f"Ray could not run {job.target}: "
                                                         f"{type(exc).__name__}: {_first_line(exc)}"))  # fmt: skip

    def _run(self, seat: _Seat, job: _Job) -> None:
        ray = self.ray
        if seat.actor is None:  # lost, timed out or unhealthy: a fresh judge in the same bundle
            try:
                self._settle(seat, self._boot(seat), f"for {job.tenant}")
            except WorkerError as exc:
                job.future.set_exception(exc)
                return
        try:
            reply = ray.get(seat.actor.call.remote(job.target, job.payload), timeout=job.timeout_s)
        except ray.exceptions.GetTimeoutError:
            self._discard(seat)
            job.future.set_exception(WorkerError(TIMEOUT, f"{job.target} did not finish within {job.timeout_s:g} s "
                                                 "on its Ray actor; the actor was killed"))  # fmt: skip
            return
        except ray.exceptions.RayActorError as exc:
            self._discard(seat)
            self._lost(seat, job, exc)
            return
        placed = Placement(seat.index, seat.node, seat.device, job.note)
        self._placements[_key(job.target, job.payload, job.gpu)] = placed
        if reply[0] == "ok":
            job.future.set_result(reply[1])
            return
        if not self._healthy(seat):
            self._discard(seat)
        job.future.set_exception(WorkerError(RUNTIME_ERROR, reply[1] + (f" ({job.note})" if job.note else ""),
                                             traceback_text=reply[2], stderr_tail=reply[3],
                                             outcome=reply[4]))  # fmt: skip

    def _lost(self, seat: _Seat, job: _Job, exc: BaseException) -> None:
        """An actor died under a job: its node lost, or its process killed (a kernel's own process dying is the
        judge's to report, and fails only that item). One retry on a fresh actor, on another seat if one can."""
        job.deaths += 1
        why = _first_line(exc, prefer="The actor is dead because")
        where = f"seat {seat.index} on node {seat.node[:8]}"
        if job.deaths <= self.retries and not self._closed:
            job.note, job.avoid = f"retried once: its first actor ({where}) died: {why}", seat.index
            with self._cond:
                self._pending.insert(0, job)
                self._cond.notify_all()
            return
        job.future.set_exception(WorkerError(RUNTIME_ERROR, f"the actor died while running {job.target} ({where}): "
                                             f"{why}; {job.note or 'not retried'}"))  # fmt: skip

    def _healthy(self, seat: _Seat) -> bool:
        if self.health_check is None:
            return True
        try:
            reply = self.ray.get(seat.actor.call.remote(self.health_check, None), timeout=self.health_timeout_s)
        except Exception:
            return False
        return reply[0] == "ok" and reply[1] is not False

    def _discard(self, seat: _Seat, *, tidy: bool = False) -> None:
        """Kill the seat's actor; ``tidy``: let it close its kernels' processes and remove their folders first."""
        if seat.actor is not None:
            if tidy:
                with contextlib.suppress(Exception):  # dead or stuck: killed below all the same
                    self.ray.get(seat.actor.close.remote(), timeout=10)
            with contextlib.suppress(Exception):  # already dead
                self.ray.kill(seat.actor, no_restart=True)
        seat.actor, seat.serving = None, None

    def _retire(self, seat: _Seat, job: _Job, why: str) -> None:
        """A seat whose actors no longer start: its job goes to another seat, and jobs no seat can serve fail."""
        with self._cond:
            self.seats = [s for s in self.seats if s is not seat]
            self._pending.insert(0, job)
            for stuck in [j for j in self._pending if j.gpu not in (None, *self.gpus) or not self.seats]:
                self._pending.remove(stuck)
                stuck.future.set_exception(WorkerError(RUNTIME_ERROR, f"no seat of the Ray cluster is left for this "
                                                       f"call: {why}"))  # fmt: skip
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            for job in self._pending:
                job.future.set_exception(RuntimeError("the Ray runner closed before this call ran"))
            self._pending.clear()
            self._cond.notify_all()
        for seat in self.seats:
            self._discard(seat, tidy=True)
        for thread in self._threads:
            thread.join(timeout=5)
        if self._group is not None:
            from ray.util.placement_group import remove_placement_group

            with contextlib.suppress(Exception):  # the cluster may be gone already
                remove_placement_group(self._group)
        self.ray.shutdown()


def _key(target: str, payload: Any, gpu: str | None) -> str:
    """A call's identity: requests are frozen dataclasses of plain values, so their repr names them exactly."""
    return repr((target, payload, gpu))


def _first_line(exc: BaseException, prefer: str = "") -> str:
    """The line of Ray's message that says what happened (the one starting with ``prefer``), to its first period."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    chosen = next((line for line in lines if prefer and line.startswith(prefer)), lines[0] if lines else "")
    return chosen.split(". ")[0].rstrip(".") or type(exc).__name__

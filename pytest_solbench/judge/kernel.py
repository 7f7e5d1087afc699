"""The kernel's process as the judge sees it: requests out, validated plain replies back, one deadline.

``Kernel`` sends a request to the kernel's process (a plain worker of ``TenantPools``, confined by its initializer,
``worker.harness`` on its side), writes the open exchanges' shared tensors out before it and reads them back as the
reply arrives (``worker.shm.Arena``), and turns whatever goes wrong into the item's verdict: a reply off the schema
(``judge.reply``), a tripwire the process reported, a shared file it cut, a crash or a missed deadline. ``stopped``
holds the kernels' processes still while the judge measures something of its own.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Callable, Iterator

from pytest_solbench.judge import phases
from pytest_solbench.judge import reply as schema
from pytest_solbench.protocol import ItemOutcome, ItemRequest, Status, failure
from pytest_solbench.worker.pool import TenantPools, WorkerError, unreadable
from pytest_solbench.worker.shm import Arena, passed_fds

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
PAUSE_WAIT_S = 1.0  # how long ``stopped`` waits for the processes it signalled to stop

MIN_REQUEST_S = 1.0  # per call a request holds: the least time it gets where the item's deadline is near
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
        """The validated reply to one request; its deadline is the item's, and never under ``MIN_REQUEST_S`` for
        each call it holds (a "call" request holds several checked calls, ``referee.checked_calls``)."""
        calls = len(payload["calls"]) if what == "call" else 1
        remaining = max(MIN_REQUEST_S * calls, self.deadline - time.monotonic())
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()  # the shared buffers' contents land before the kernel's process reads them
        with phases.phase(f"kernel {what}"):
            return self._ask(what, payload, validate, remaining)

    def _ask(self, what: str, payload: dict[str, Any], validate: Callable[[Any], dict[str, Any]],
             remaining: float) -> dict[str, Any]:  # fmt: skip
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
            # a request that raised out of the harness left the process in a state no record saw: it serves no
            # later item (a BaseException's __str__ compiled a library op the later items ran: round 41, bn01)
            self.pools.retire(self.tenant)
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
        """Every process of this judge's kernels stopped while the block runs (``stopped``): what the judge measures
        of its own there (the outside clock's fixed costs) is not slowed by threads a kernel left spinning on the
        host's cores to raise what is subtracted from its batch and allowed on top (red-team round 8, m2)."""
        return stopped(_worker_pids(self.pools))

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

    def load(self, op_type: str) -> bool:
        """Import the kernel over there; whether it is destination-passing. The operators its import dispatched are
        judged (``judge_import``): a library GEMM compiled by Inductor's template, or captured into a graph, at import
        leaves no operator in any call's record (red-team round 26, ai01)."""
        request = self.request
        payload = {"key": self.key, "kernel": request.kernel, "definition_path": request.definition_path,
                   "blob_root": request.blob_root, "bind_by_name": request.bind_by_name, "guard": request.guard,
                   "allowed_rules": list(request.allowed_rules),
                   "compile_kernel": request.compile_kernel}  # fmt: skip
        if self.key not in _ROUND_TRIP_MS:  # measured while the process holds no code of the kernel's
            _ROUND_TRIP_MS[self.key] = min(self.ping_ms() for _ in range(PINGS))
        loaded = self.ask("load", payload, schema.load)
        self.judge_import(loaded["ops"], op_type)  # first: a library op at import, then a failed import, is the op's
        if "failure" in loaded:
            raise Verdict(failure(loaded["failure"], loaded["error"]))
        tripped(loaded["trip"])
        self.destination_passing = bool(loaded["destination_passing"])
        return self.destination_passing

    def judge_import(self, ops: list[str] | None, op_type: str) -> None:
        """The operators every import of the kernel in its process dispatched (a failed one's too), as its process
        sent them with each item's load: a library op of the problem's family is ``vendor-op``; the allow-list does
        not apply there (tables built with ``torch.linalg`` or an FFT on constants are honest: red-team round 27)."""
        from pytest_solbench.guard import dispatched

        if ops is None or not self._watches(op_type):
            return
        found = dispatched.finding(ops, op_type, "while the kernel's module was imported", allow_list=False)
        if found is not None:
            raise hack(found[0], f"{found[1]}. Module-level code runs under the same record as a call: a self-check "
                       "against the library belongs under `if __name__ == \"__main__\":`, which the plugin does not run")

    def judge_ops(self, ops: list[str] | None, op_type: str) -> None:
        """The operators a checked call (or CPU mode's short batch) dispatched, judged here from the names the
        kernel's process sent (``guard.dispatched.finding``); where the judge asked for a record and none came, the
        kernel's process kept it back."""
        from pytest_solbench.guard import dispatched

        if not self._watches(op_type):
            return
        if ops is None:
            raise hack("patching", "the kernel's process sent no record of the operators its call dispatched")
        found = dispatched.finding(ops, op_type)
        if found is not None:
            raise hack(*found)

    def judge_kernels(self, names: list[str] | None, ops: list[str] | None, op_type: str) -> None:
        """The GPU kernels a checked call launched (CUPTI's names, where the judge asked for them), beside its
        request's operator record: library work the record does not account for is judged as its operator
        (``guard.vendor_kernels``); called after ``judge_ops`` passed the record."""
        from pytest_solbench.guard import vendor_kernels

        if names is None or not self._watches(op_type):
            return
        found = vendor_kernels.finding(names, ops, op_type)
        if found is not None:
            raise hack(*found)

    def _watches(self, op_type: str) -> bool:
        """Whether this kernel's library work is judged: the guard on, a kernel of the user's (not the problem's
        reference), ``vendor-op`` not allowed, an op type with a family (``guard.dispatched.watched``)."""
        from pytest_solbench.guard import dispatched

        request = self.request
        return (request.guard and not request.kernel.get("is_reference") and "vendor-op" not in request.allowed_rules
                and dispatched.watched(op_type))

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
    """A tripwire the kernel's own process reported: believed, since it can only hurt that kernel. A broken contract
    (``CONTRACT_RULES``: a result of a type the harness does not read) fails the item without calling it a cheat."""
    if trip is not None and trip["rule"] in CONTRACT_RULES:
        raise Verdict(failure(Status.RUNTIME_ERROR, f"[{trip['rule']}] {trip['message']}"))
    if trip is not None:
        raise hack(trip["rule"], trip["message"], **fields)


#: Tripwires that find a kernel outside the contract, not a cheat: a frozen dataclass returned failed as REWARD_HACK
#: (red-team round 45, ca b07); it fails all the same, since its attributes are never read
CONTRACT_RULES = frozenset(("result-type",))


def kernels_pids(kind: str) -> list[int]:
    """The processes of this judge's kernels on a device kind ("cuda" or "cpu"), the reference's apart."""
    return _worker_pids(_POOLS.get((kind, False)))


def _worker_pids(pools: Any) -> list[int]:
    """The processes of a judge's pools (none under ``--solbench-isolate none``, or where no pool was made)."""
    return [pid for pids in getattr(pools, "worker_pids", dict)().values() for pid in pids]


@contextlib.contextmanager
def stopped(pids: list[int]) -> Iterator[None]:
    """``pids`` stopped (SIGSTOP) while the block runs, then let go (SIGCONT). Processes it cannot stop (gone, or
    not its to signal) are left as they are."""
    import os
    import signal

    from pytest_solbench.worker.pool import is_stopped

    held = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGSTOP)
            held.append(pid)
        except OSError:
            pass
    deadline = time.monotonic() + PAUSE_WAIT_S
    while held and not all(is_stopped(pid) for pid in held) and time.monotonic() < deadline:
        time.sleep(0.001)
    try:
        yield
    finally:
        for pid in held:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGCONT)

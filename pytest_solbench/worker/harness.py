"""What runs in a kernel's own process, at the judge's request: load the kernel, call it, time it.

Every entry takes a dict of plain values and returns one (the pool sends it back as JSON, never a pickle). Inputs
and outputs are the judge's shared tensors (``shm``); a destination-passing kernel writes its outputs straight into
them, and a value-returning kernel's results are copied in here. Nothing returned is a verdict: the judge decides
every status from the bytes in its own memory. What this process reports (its tripwires, its timings, the kernels
it launched) can only add a failure or be corroborated; a kernel that forges it can hurt only itself, or is caught
by what the judge sees from outside (``judge.corroborate``).

Every call runs under ``torch.no_grad()``, correctness and timed alike, on tensors made the same way, so nothing
in the process tells a checked call from a timed one but the stack itself.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pytest_solbench.data.inputs import poison_
from pytest_solbench.guard import dispatched, leftovers, vendor_kernels
from pytest_solbench.guard.confine import own_user_hint
from pytest_solbench.measure.samples import plain as _plain_measurement  # rebound by red-team judge_ping_delay
from pytest_solbench.worker import collector, execute
from pytest_solbench.worker import delivery
from pytest_solbench.worker.aftercall import _after_call, _check, _strict_outputs, _strict_result
from pytest_solbench.worker.pool import hold_drain
from pytest_solbench.worker.rounds import as_outputs
from pytest_solbench.worker.shm import attach, touch


@dataclass
class _Loaded:
    fn: Any
    dps: bool
    wires: Any  # guard.tripwires.Tripwires, or None (the reference, or the guard off)
    definition: Any
    watch: bool = False  # every checked call records the operators it dispatches (``guard.dispatched``)
    settled: bool = False

    def armed(self) -> Any:
        return self.wires.arm() if self.wires is not None else contextlib.nullcontext()


_LOADED: dict[str, _Loaded] = {}
_IMPORTS: dict[str, set[str]] = {}  # the operators each kernel's imports in this process dispatched (``load``)


def _trip(trip: Any) -> dict[str, str] | None:
    return None if trip is None else {"rule": str(trip.rule), "message": str(trip.message)}


def load(payload: dict[str, Any]) -> dict[str, Any]:
    """Import (or build) the kernel with its tripwires armed: {"destination_passing", "trip"}, or {"failure",
    "error"} when it does not load."""
    from pytest_solbench.data import kernels


    problem = execute._problem(payload["definition_path"], payload["blob_root"], payload["bind_by_name"])
    spec = kernels.KernelSpec.from_payload(payload["kernel"])
    watch = bool(payload["guard"]) and "vendor-op" not in payload.get("allowed_rules", ()) and dispatched.watched(
        problem.definition.op_type)  # fmt: skip
    failed: dict[str, Any] | None = None
    hold_drain()  # torch's functions each reply waits with, bound before any kernel's import (round 61, dv02)
    # the import is recorded as a checked call is: a GEMM compiled or captured there ran in no call (round 26, ai01)
    if payload["guard"]:
        leftovers.hold()  # torch's functions for its stacks of modes, the signal handlers: before the kernel's import
        collector.watch()  # the collector's callbacks too (round 71, ex05)
    moded = None
    with dispatched.recorded() if watch else contextlib.nullcontext(set()) as ops:
        try:
            fn, dps, wires = execute._kernel(spec, problem.definition, payload["guard"])
            moded = leftovers.tripped() or leftovers.registered()  # first: before the harness's next call
            if payload["compile_kernel"]:
                fn = execute._compiled(fn)
        except kernels.KernelError as exc:  # a PermissionError at its import: the file own-user kept from it is named
            failed = {"failure": exc.status, "error": str(exc) + own_user_hint(exc)}
        except BaseException as exc:  # SystemExit and the rest too: nothing of the kernel's escapes the record
            failed = {"failure": "COMPILE_ERROR", "error": _fault(exc)}
        if failed is None:  # the last item's garbage goes before the freeze below keeps what is left for good,
            with wires.arm() if wires is not None else contextlib.nullcontext():  # inside this record (round 31, at)
                gc.collect()
    # Every item's load answers with every import of this kernel in this process, a failed one too: an item after the
    # first finds it imported, and a retried import finds what a failed one left behind (round 27, al00, al00b).
    imported = _IMPORTS.setdefault(execute.kernel_key(spec), set())
    imported.update(ops)
    sent = dispatched.sent(imported) if watch else None
    if failed is not None:
        return {**failed, "ops": sent}
    watch = watch and wires is not None
    collector.hold_off(guarded=wires is not None)  # garbage collected inside records only (``worker.collector``)
    _LOADED[payload["key"]] = entry = _Loaded(fn, dps, wires, problem.definition, watch)
    if wires is not None:  # the entry the harness asks for its tripwires stays as loaded (red-team round 18, u03)
        wires.snapshot.watch(f"harness._LOADED[{spec.name!r}]", entry, ("fn", "dps", "wires", "definition", "watch"))
    trip = moded or (wires.check() if wires is not None else None)
    return {"destination_passing": dps, "trip": _trip(trip), "ops": sent}


def call(payload: dict[str, Any]) -> dict[str, Any]:
    """Checked calls back to back, each on inputs and outputs of its own, under ONE operator record (or, where the
    judge asks which kernels they launched on the GPU, one CUPTI profile, whose CPU side is that record):
    {"calls": [{"outputs" (value-returning: what came back), "trip", "kernel_names"} or {"error"}, ...], "ops"}.
    Each call's checks (the tripwires, what it returned) run after it, inside the record but outside the call's own
    range; the list ends at the first call that raised or tripped, as separate requests stopped there."""
    import torch

    entry, device = _LOADED[payload["key"]], payload["device"]
    early = leftovers.tripped() or leftovers.harness_ops()  # before the harness's first torch call, which runs either
    if early is not None:
        return {"calls": [{"outputs": None, "trip": _trip(early), "kernel_names": None}], "ops": _sent(entry, set()),
                "kernel_s": 0.0}
    cases = [([attach(d, device) for d in c["inputs"]], [attach(d, device) for d in c["outputs"]])
             for c in payload["calls"]]  # fmt: skip
    replies: list[dict[str, Any]] = []
    results: dict[int, Any] = {}  # a call's result, until its checks
    ops: set[str] = set()

    def over() -> bool:
        return bool(replies) and ("error" in replies[-1] or replies[-1]["trip"] is not None)

    own = [0.0]  # wall seconds in the kernel's own code (its JIT too), for the judge's record of the item's time

    def run(i: int) -> None:
        if not over():
            began = time.perf_counter()
            try:
                results[i] = _invoke(entry, *cases[i])
            except BaseException as exc:  # a BaseException left the record, whose str() ran outside it (round 41, bn01)
                replies.append(_raised(entry, exc))
            finally:
                own[0] += time.perf_counter() - began
                moded = leftovers.tripped()  # before the harness's own calls (the checks)
                if moded is not None:
                    results.pop(i, None)
                    del replies[i:]
                    replies.append({"outputs": None, "trip": _trip(moded), "kernel_names": None})

    def check(i: int) -> None:  # inside the record: every check up to the reply (red-team round 21, y04, y08)
        if i not in results:
            return
        try:
            reported, trip, final = _after_call(entry, results.pop(i), *cases[i], device)
        except BaseException as exc:
            replies.append(_raised(entry, exc))
            return
        replies.append({"outputs": None if final else reported, "trip": _trip(trip), "kernel_names": None})
        collector.between_calls()  # inside the record, as before every timed call (``prepare``)

    def let_go() -> None:
        """The calls' tensors dropped and the garbage collected inside the record and the armed window: a finalizer
        the kernel left on an input (a generator's ``finally``) ran after both had closed and compiled or traced a
        GEMM unseen (red-team rounds 27, ak02, and 28, am01 to am03). What it does is recorded and checked here."""
        cases.clear()
        results.clear()
        gc.collect()
        if replies and "error" not in replies[-1] and replies[-1]["trip"] is None:
            trip = _check(entry, None)
            if trip is not None:
                replies[-1]["trip"] = _trip(trip)

    calls = len(cases)
    try:
        with torch.no_grad(), entry.armed():
            if _profiled(payload, device):
                from pytest_solbench.measure.timing import profiled_spans_ms

                # the call before's checks in ``prepare``, the last's in ``after``: outside every call's range
                stray: set[str] = set()
                _spans, sets = profiled_spans_ms(run, lambda i: check(i - 1), _noop, list(range(calls)),
                                                 ops=ops if entry.watch else None,
                                                 after=lambda: (check(calls - 1), let_go()), stray=stray)  # fmt: skip
                for k, reply in enumerate(replies):
                    if "error" not in reply:
                        reply["kernel_names"] = sorted(sets[k])
                vendor_kernels.add_strays([r for r in replies if r.get("kernel_names") is not None], stray)
            else:
                with dispatched.recorded() if entry.watch else contextlib.nullcontext(ops) as ops:
                    for i in range(calls):
                        run(i)
                        check(i)
                    let_go()
    except BaseException as exc:  # the record itself failed around the calls (their own raises are caught above)
        if not over():
            del replies[calls - 1:]  # the last call's place says so: the reply stays within the calls asked
            replies.append({"error": _fault(exc, recorded=False)})  # outside the record: nothing of the kernel's runs
    return {"calls": replies, "ops": _sent(entry, ops), "kernel_s": round(own[0], 6)}


def _profiled(payload: dict[str, Any], device: str) -> bool:
    """Whether checked calls run under CUPTI's profile: the judge asked which kernels they launched, on the GPU."""
    return bool(payload["kernels"]) and device.startswith("cuda")


def _raised(entry: _Loaded, exc: Exception) -> dict[str, Any]:
    """A call that raised: {"error"}, or its tripwire where one saw something (a stopped signal raises in the
    kernel), with what it raised after (what it did decides)."""
    seen = entry.wires.check() if entry.wires is not None else None
    if seen is not None:
        raised = f"{type(exc).__name__}: {exc}"[:2000]
        return {"outputs": None, "trip": {"rule": str(seen.rule), "message": f"{seen.message}; then the kernel raised "
                                          f"{raised}"}, "kernel_names": None}  # fmt: skip
    return {"error": _fault(exc)}


def _sent(entry: _Loaded, ops: set[str]) -> list[str] | None:
    """The operators a watched call dispatched, as plain names for the judge to judge (``guard.dispatched.finding``):
    nothing of the verdict is decided here, where the kernel's code runs (red-team round 22, aa03). Bound at the
    harness's import: an import statement here, after the record, read a module spec the kernel had set (round 50)."""
    return dispatched.sent(ops) if entry.watch else None


def timed(payload: dict[str, Any]) -> dict[str, Any]:
    """Timed calls over the judge's input sets: {"measurement", "trip"} (``timing.measure``), or, with a
    ``schedule`` of set indices, exactly those calls back to back ({"calls", "trip"}); {"error"} if one raised.
    Call ``i`` uses set ``i % len(sets)`` (or ``schedule[i]``); each set's outputs end up holding its last call's.

    The inputs the reference updates in place (``restore``: their positions) are put back as the judge made them
    before every call on a set but its first, outside the timed window as outputs are poisoned: each call starts
    from the same state, so none finds its cache slots already written by an earlier call and skips them unseen,
    and each set's state at the end is its last call's alone (red-team round 6)."""
    import torch

    from pytest_solbench.measure import clocks, timing

    entry, device = _LOADED[payload["key"]], payload["device"]
    # the first timed result that was not plain (a view is a copy the harness would make), or a mode left on torch's
    # stacks, looked for before the harness's first torch call and after every call (``deliver``)
    # read in ``attach_sets`` where the sets were mapped ahead (the judge's outside clock times this request: a full
    # read of the harness's operators took 3 ms on the H100's host, and failed honest kernels there)
    early = _ATTACHED.pop("trip", None) if payload.get("attached") else leftovers.harness_ops()
    tripped: list[Any] = [t for t in [leftovers.tripped() or early] if t is not None]
    sets = _ATTACHED.pop("sets") if payload.get("attached") else _attach(payload["sets"], device)
    schedule = payload.get("schedule")
    repeated = range(len(sets)) if schedule is None else {k for k, n in Counter(schedule).items() if n > 1}
    as_made = {k: {p: sets[k][0][p].clone() for p in payload.get("restore", ())} for k in repeated}
    begun: set[int] = set()  # the sets called so far
    pending: list[Any] = []  # (set index, result) of a value-returning call, delivered before the next one

    def which(i: int) -> int:
        return schedule[i] if schedule is not None else i % len(sets)

    def deliver() -> None:
        # the harness's first work after a call; not in a batch the judge's outside clock times, which sees work moved
        moded = leftovers.tripped() or (leftovers.harness_ops(between_calls=True) if not later else None)  # there
        tripped.extend([moded] if moded is not None and not tripped else [])
        while pending:
            index, result = pending.pop()
            trip = _strict_result(entry, result)
            if trip is None:
                returned = as_outputs(result, entry.definition)
                trip = _strict_outputs(entry, returned, sets[index][0])
                if trip is None:
                    delivery.deliver(returned, sets[index][1])
            if trip is not None and not tripped:
                tripped.append(trip)

    def prepare(i: int) -> None:
        deliver()  # outside the timed window: the copy is the harness's work, not the kernel's
        collector.between_calls()  # as after a checked call: the collector tells no call from another (round 41)
        if which(i) in begun:
            for p, made in as_made[which(i)].items():
                sets[which(i)][0][p].copy_(made)
        begun.add(which(i))
        if entry.dps:
            for out in sets[which(i)][1]:
                poison_(out)  # as a checked call's outputs are: nothing tells a timed call from a checked one

    def last_call() -> None:
        """Before the harness's first torch call after the batch (a kernel left over one of its operators would run
        there, and could take itself off: red-team round 53): all of them, or, where the judge's outside clock times
        this request, those ``deliver`` runs, and only where it will (``checked`` reads them all first)."""
        moded = leftovers.harness_ops() if not later else leftovers.harness_ops(between_calls=None) if pending else None
        tripped.extend([moded] if moded is not None and not tripped else [])

    def run(i: int) -> None:
        ins, outs = sets[which(i)]
        if entry.dps:
            entry.fn(*ins, *outs)
        else:
            pending.append((which(i), entry.fn(*ins)))

    cfg = payload["timing"]
    flush = None
    if device.startswith("cuda") and cfg["l2_flush_bytes"] != 0:
        from pytest_solbench.worker.bench import _flusher

        nbytes = cfg["l2_flush_bytes"]
        flush = _flusher(device, nbytes) if nbytes else timing.L2Flusher.for_device(device)
    ops: set[str] = set()  # CPU mode's short batch records its operators as checked calls do (round 20, x01, x03)
    later = payload.get("check_later")
    found: list[Any] = []  # the tripwires' finding, made inside the short batch's record (round 21, y04, y08)
    try:
        with torch.no_grad(), entry.armed():
            if schedule is not None:
                cpu_watch = entry.watch and not later  # the judge's short batch; never the outside clock's
                with dispatched.recorded() if cpu_watch else contextlib.nullcontext(ops) as ops:
                    timing.run_batch(run, prepare=prepare, flush=flush, n=len(schedule), device=device)
                    last_call()
                    deliver()
                    execute._sync(device)
                    if not later:  # the short batch's tensors let go inside its record and armed window, as a
                        sets.clear()  # checked call's are (``call``, ``let_go``): a finalizer on one runs recorded
                        as_made.clear()  # (red-team round 28's open end)
                        gc.collect()
                    if not later or tripped:
                        found.append(tripped[0] if tripped else _check(entry, None))
                reply: dict[str, Any] = {"calls": len(schedule), "ops": _sent(entry, ops) if cpu_watch else None}
            else:
                config = timing.TimingConfig(max_time_s=cfg["max_time_s"], timer=cfg["timer"],
                                             cold_l2=flush is not None)  # fmt: skip
                measurement = timing.measure(run, prepare=prepare, device=device, config=config, l2_flush=flush,
                                             clock_probe=clocks.probe_for(device), input_set=which)  # fmt: skip
                last_call()
                reply = {"measurement": _plain_measurement(measurement.to_dict())}
            deliver()
            execute._sync(device)
            if schedule is None:  # let go armed, before the checks: at the next mapping, a finalizer the kernel left
                sets.clear(), as_made.clear(), gc.collect()  # on an input ran unwatched (red-team round 70, ev01)
    except BaseException as exc:  # the short batch's too (round 41, bn03); the record has closed: told, not read
        return {"error": f"while timing: {_fault(exc, recorded=False)}"}
    finally:
        _ATTACHED["done"] = sets  # let go at the next request, outside the window the judge times
    if later and not tripped:  # the judge times this request: its checks come in the next
        _ATTACHED["check"] = entry
        return {**reply, "trip": None}
    trip = found[0] if found else tripped[0] if tripped else _check(entry, None)
    return {**reply, "trip": _trip(trip)}


def checked(_payload: Any = None) -> dict[str, Any]:
    """The tripwires after a timed batch whose request said ``check_later`` (scanning threads and processes took
    milliseconds, inside the judge's outside clock): {"calls": 0, "trip", "ops"}. First that batch's tensors are let
    go and the garbage collected inside an operator record and the armed window, as the short batch's are: kept to
    the next request, a finalizer the kernel left on one (a ``close`` of an ``io`` subclass made as
    ``type(sys.stderr)``, which no static rule names) ran there unrecorded (red-team round 54, da04, modelled)."""
    entry = _ATTACHED.pop("check", None)
    if entry is None:
        return {"calls": 0, "trip": None}
    moded = leftovers.tripped()  # before the record's own torch calls; the let-go makes none (``_check`` reads the rest)
    ops: set[str] = set()
    if moded is None:
        with dispatched.recorded() if entry.watch else contextlib.nullcontext(ops) as ops, entry.armed():
            _ATTACHED.pop("done", None)
            gc.collect()
    return {"calls": 0, "trip": _trip(moded or _check(entry, None)), "ops": _sent(entry, ops)}


_ATTACHED: dict[str, Any] = {}  # "sets": attached for the next timed batch; "done": the last batch's, let go later


def _attach(descs: list[dict[str, Any]], device: str) -> list[tuple[list, list]]:
    _ATTACHED.clear()  # the previous batch's tensors (closing a CUDA IPC mapping costs time too)
    return [([attach(d, device) for d in s["inputs"]], [attach(d, device) for d in s["outputs"]]) for s in descs]


def attach_sets(payload: dict[str, Any]) -> dict[str, Any]:
    """Map the judge's sets ahead of a timed batch ({"attached": true} in its request), so that opening CUDA IPC
    handles (a fraction of a millisecond each) stays out of the judge's outside clock. The judge writes the
    inputs' values only after this reply, so nothing can be worked out ahead from them."""
    trip = leftovers.tripped() or leftovers.harness_ops()  # before the mapping's torch calls, which would run either
    sets = _ATTACHED["sets"] = _attach(payload["sets"], payload["device"])
    if trip is not None:
        _ATTACHED["trip"] = trip  # told in the timed batch's reply, as a trip found there is
    if payload["device"].startswith("cuda"):
        touch([t for ins, outs in sets for t in (*ins, *outs)])
    # No collection here: a finalizer would run with no record and no armed tripwires, just before the judge times
    # its own loop (red-team round 59, dp02); the batch's first young collection, timed by the outside clock, is in
    # its allowance. The worker's reply waits for the card (``pool._drained``), so nothing queued here slows that loop
    return {}


def ping(_payload: Any = None) -> dict[str, Any]:
    """The round trip the judge measures, to take it out of the outside clock."""
    return {}


# ---------------------------------------------------------------- helpers


def _noop(*_args: Any) -> None:
    pass


def _fault(exc: BaseException, recorded: bool = True) -> str:
    """What the kernel raised, for its author: the exception and its frames, then, where own-user kept a file from
    it (one of its own, closed to other users), that file and the fix (``guard.confine.own_user_hint``).
    ``recorded``: told inside a record; outside one its message is not read (``pool.told``)."""
    return execute._short_traceback(exc, recorded=recorded) + (own_user_hint(exc) if recorded else "")


def _invoke(entry: _Loaded, args: list, outs: list) -> Any:
    if entry.dps:
        entry.fn(*args, *outs)
        return outs
    return entry.fn(*args)

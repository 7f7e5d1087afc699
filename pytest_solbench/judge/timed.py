"""The judge's side of the timed calls: fresh input values, outputs checked, reported times corroborated.

The judge makes several input sets, each from its own seed (fresh values, not only fresh addresses), and poisons an
output set for each; the kernel's process times its calls over them (``worker.harness.timed``). Afterwards the
judge, in its own memory:

- compares every set's shared inputs byte for byte with its private copy, kept here and never shared
  (``input-mutation``), and compares every set's outputs, those of the last call made on it, with the reference run
  on that private copy: a kernel that does less work when it is timed, that serves a result cached on a few input
  values, or that edits the shared inputs to choose what it is held to, fails. A wrong timed call is called once
  more on the same inputs, untimed (``_recheck``): right there, the kernel told timed calls from checked ones
  (``timed-output``); wrong there too, it is INCORRECT on those inputs, with no accusation. An input the
  reference updates in place (a KV cache) is put back as made before every call on a set but its first (``restore``,
  outside the timed window), so it too holds the last call's work alone, and no call finds its slots already
  written by an earlier one (red-team round 6);
- on the GPU: refuses timed calls that launched no kernel (``no-kernel``), or on one input set other kernels than
  each other, than the first call ever made on the set's values (a checked call before the timed ones), or than an
  untimed call on the same values after them (``kernel-set-changed``); then times one more batch from outside,
  each call on inputs of its own never shown before (fresh values from seeds of their own) and into outputs of its
  own, checks the inputs and outputs of calls it picks at random after the batch, and holds the reported median
  against that outside clock (``judge.corroborate``); clocks are read here, not taken from the kernel's process.

Why fresh inputs in the outside batch: the timed sets repeat (a rotation of 2 to 8), so a kernel that recognises a
repeat (by the harness's set index, an address or a few values) can compute each set once and replay its result
afterwards, right every time; its samples then time the replay. In the outside batch nothing repeats, so the judge's
clock times the work itself, and a median taken over replays is a contradiction.

On CPU (no timing) the same request runs a short batch with every set called twice, each call into outputs of its
own and on its own copy of the inputs the reference updates in place, every one checked, so the checks above that
need no GPU run in CI: the calls carry the timing module's frames, ``no_grad`` and reused tensors as timed calls do.

Long: the timed sets, the CPU batch and the outside clock's batches are one protocol over one vocabulary (a set in
shared memory, its private copy, its copy as the reply left it, its checks); apart, the outside clock would import
most of this module's private names.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass
from typing import Any

from pytest_solbench.judge import corroborate, phases
from pytest_solbench.judge import reply as schema
from pytest_solbench.judge.kernel import Kernel, Verdict, hack, tripped
from pytest_solbench.judge.referee import make_inputs
from pytest_solbench.measure import clocks
from pytest_solbench.protocol import ItemRequest, Status, escape_controls, failure
from pytest_solbench.worker.rounds import TIMED_ROUND, as_outputs

# The timed sets' seeds: a keyed hash of (seed, uuid, TIMED_ROUND + k) (``_timed_seed``); the first set is the one
# the bound's bytes are found on (``first_set_seed``).
CPU_SETS = 2
# 16: a call's share of the round trip's noise stays far under the clock's allowance (0.25 ms a call), and each
# call costs a fresh input set (made, shared, mapped: 4 ms a call for the paged decode on an H100, session 15)
MAX_BATCH_CALLS = 16
BATCH_OUTPUT_BYTES = 256 << 20
CHECKED_PER_BATCH = 4  # the reference runs once per checked call
OUTSIDE_TRIES = 3  # batches on fresh inputs before a contradiction stands
FRESH_ROUND = TIMED_ROUND + 1_000  # seeds of the outside batch's sets: TIMED_ROUND + k would repeat a timed set
AFTER_ROUND = TIMED_ROUND + 999  # the seed of the new values called after the timed calls (``_calls_after``)


@dataclass(frozen=True)
class Checked:
    """The last correctness round: its inputs (the judge's, never shared), the reference's outputs and in-place
    updates on them, and the kernels the call launched (CUPTI, GPU; else None)."""

    args: list
    expected: list
    updated: dict
    kernel_names: list[str] | None


@dataclass
class _Set:
    """One input set in shared memory, its outputs, and the judge's private copy of its inputs as made."""

    inputs: list
    outputs: list
    payload: dict[str, list]
    private: list  # never shared: the reference runs on it and the shared inputs are held to it


def check_timed(kernel: Kernel, request: ItemRequest, problem: Any, workload: Any, axis_values: dict[str, int],
                reference: Any, last: Checked | None) -> dict | None:  # fmt: skip
    """The measurement (None on CPU), once every check on the timed calls held; raises ``Verdict`` otherwise.
    ``last``: the last correctness round (None for a baseline)."""
    if not request.time_kernel and not request.rounds:
        return None
    updated = set(last.updated) if last is not None else set()
    with kernel.arena() as arena:
        with phases.phase("share"):
            sets = _sets(arena, request, problem, workload, axis_values)
        base = {"key": kernel.key, "device": request.device, "timing": asdict(request.timing),
                "sets": [s.payload for s in sets], "restore": sorted(updated)}  # fmt: skip
        if not request.time_kernel:  # CPU: a short batch, every set twice, every call checked
            ran = _cpu_batch(kernel, arena, base, sets, request, problem, workload, axis_values, reference, updated)
            if last is not None:
                _calls_after(kernel, request, problem, workload, reference, sets, None, last,
                             ran.get(id(sets[0].private)))  # fmt: skip
            return None
        first, expected = _first_calls(kernel, problem, workload, reference, sets, last)
        probe = clocks.probe_for(request.device)
        before = probe() if probe else None
        answer = kernel.ask("timed", base, schema.measure)
        after = probe() if probe else None
        with phases.phase("copies"):
            seen = _as_replied(sets)
        _answered(kernel, answer)
        measured = _summary(answer["measurement"], before, after, request.device)
        if not request.rounds:  # the baseline: the reference itself, in a process of its own; nothing to check
            return measured
        try:
            ran = _check_sets(kernel, seen, request, problem, workload, reference, updated, expected=expected)
            known = ran.get(id(sets[_compared_set(measured, sets) or 0].private))  # for ``_calls_after``
            del ran, seen, expected
            _timer_kept(request, last, measured)
            _kernel_sets(measured)
            _first_kernels(first, measured)
            _outside_clock(kernel, request, problem, workload, axis_values, reference, measured, updated)
            if last is not None:
                _calls_after(kernel, request, problem, workload, reference, sets, measured, last, known)
        except Verdict as verdict:
            raise Verdict(_with_timing(verdict.outcome, measured)) from None
        return measured


_SECRET: dict[int, bytes] = {}  # per judge process (by pid): drawn here, never sent to a kernel's process


def _timed_seed(seed: int, uuid: str, round_index: int) -> int:
    """The seed of one timed or outside set: a keyed hash (BLAKE2b, 128-bit key drawn once per judge process, never
    sent) of the run's seed, the workload and the set's index. No kernel can make the timed inputs ahead of time, even
    under a fixed --solbench-seed (timed sets are checked against the reference, not reproduced), and a kernel that
    works out one set's seed from its values (31 bits: a search a GPU finishes in seconds) learns nothing of any
    other set's: a seed linear in the index, as the correctness rounds' is, gave every later set away (red-team
    round 8, m1)."""
    import hashlib
    import os
    import secrets

    key = _SECRET.setdefault(os.getpid(), secrets.token_bytes(16))
    digest = hashlib.blake2b(f"{seed}:{uuid}:{round_index}".encode(), key=key, digest_size=8).digest()
    return int.from_bytes(digest, "little") % (2**31)


def first_set_seed(request: ItemRequest, workload: Any) -> int:
    """The seed of the first timed set, whose inputs the bound's touched bytes are found on (in this process)."""
    return _timed_seed(request.seed, workload.uuid, TIMED_ROUND)


def _with_timing(outcome: Any, measured: dict) -> Any:
    from dataclasses import replace

    return replace(outcome, kernel_timing=measured)


def _answered(kernel: Kernel, answer: dict[str, Any]) -> None:
    """A timed request's trip, or its error: a kernel whose timed call raised gets a process of its own next time,
    since what it left on the batch's tensors (a finalizer) would otherwise run at the next request, before any
    record (red-team round 34, ax03)."""
    if "error" in answer:
        kernel.pools.retire(kernel.tenant)
        raise Verdict(failure(Status.RUNTIME_ERROR, answer["error"]))
    tripped(answer["trip"])


def _sets(arena: Any, request: ItemRequest, problem: Any, workload: Any, axis_values: dict[str, int]) -> list[_Set]:
    """Input sets with values of their own (as many as fit the rotation budget, 2 to 8; 2 on CPU), outputs poisoned."""
    first = make_inputs(problem, workload, axis_values, first_set_seed(request, workload), request)
    count = CPU_SETS
    if request.time_kernel:
        count = max(2, min(8, int(request.timing.rotation_bytes // max(_nbytes(first), 1))))
    return [_share(arena, request, problem, axis_values,
                   first if k == 0 else make_inputs(problem, workload, axis_values,
                                                    _timed_seed(request.seed, workload.uuid, TIMED_ROUND + k), request))
            for k in range(count)]  # fmt: skip


def _share(arena: Any, request: ItemRequest, problem: Any, axis_values: dict[str, int], args: list,
           withheld: bool = False) -> _Set:  # fmt: skip
    """A set in shared memory: copies of ``args`` (kept private) and poisoned outputs; ``withheld``: the inputs
    poisoned too, their values written later (``_reveal``)."""
    from pytest_solbench.data import inputs

    shared = [_poisoned(arena, a) if withheld and _is_tensor(a) else arena.share(a) for a in args]
    outs = [arena.share(o) for o in inputs.allocate_outputs(problem.definition, axis_values, request.device)]
    payload = {"inputs": [d for _, d in shared], "outputs": [d for _, d in outs]}
    return _Set([t for t, _ in shared], [t for t, _ in outs], payload, args)


def _as_replied(sets: list[_Set]) -> list[_Set]:
    """Copies of the sets' shared inputs and outputs as they were when the reply came (red-team round 8, j01): what
    the judge checks is what the timed calls had done by then. Checked later, in place, a kernel could finish the
    work after its reply (a helper of its own, while the judge sends ``checked`` or runs the reference) and have the
    clock time calls that did none of it. On CPU the judge's tensors hold the bytes read back at the reply, until the
    next request writes them out again; on the GPU they are the shared memory itself, copied here at once."""
    import torch

    copies = [_Set([_copy(t) for t in s.inputs], [_copy(t) for t in s.outputs], s.payload, s.private) for s in sets]
    if any(_is_tensor(t) and t.is_cuda for s in sets for t in s.outputs):
        torch.cuda.synchronize()
    return copies


def _copy(value: Any) -> Any:
    return value.clone() if _is_tensor(value) else value


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "untyped_storage")


def _poisoned(arena: Any, value: Any) -> tuple[Any, dict[str, Any]]:
    from pytest_solbench.data.inputs import poison_

    shared, desc = arena.empty(tuple(value.shape), value.dtype)
    if shared.numel():
        poison_(shared)
    return shared, desc


def _reveal(sets: list[_Set]) -> None:
    """Write each set's input values into its shared tensors (made ``withheld``), byte for byte."""
    from pytest_solbench.worker.shm import write

    for s in sets:
        for shared, private in zip(s.inputs, s.private):
            if _is_tensor(private):
                write(shared, private)


def _nbytes(tensors: list) -> int:
    return sum(t.numel() * t.element_size() for t in tensors if hasattr(t, "element_size"))


def _cpu_batch(kernel: Kernel, arena: Any, base: dict, sets: list[_Set], request: ItemRequest, problem: Any,
               workload: Any, axis_values: dict[str, int], reference: Any, updated: set[int]) -> dict:  # fmt: skip
    """CPU mode's twin of the timed calls: each set called twice, back to back, each call into outputs of its own and
    on its own copy of the inputs the reference updates in place, so that every call is checked on its own, not only
    the last on each set (red-team rounds 4 and 6: a kernel that wrote zeros into its first call's outputs, or
    garbage into the first call's cache slots, passed)."""
    calls = [_own_call(arena, request, problem, axis_values, sets[c % len(sets)], updated)
             for c in range(2 * len(sets))]  # fmt: skip
    payload = {**base, "schedule": list(range(len(calls))), "sets": [call.payload for call in calls]}
    answer = kernel.ask("timed", payload, schema.batch)
    _answered(kernel, answer)
    kernel.judge_ops(answer.get("ops"), problem.definition.op_type)
    if not request.rounds:
        return {}
    return _check_sets(kernel, calls, request, problem, workload, reference, updated,
                       what=lambda c: f"timed call {c + 1} of the judge's short batch")  # fmt: skip


def _own_call(arena: Any, request: ItemRequest, problem: Any, axis_values: dict[str, int], on: _Set,
              updated: set[int]) -> _Set:  # fmt: skip
    """One call on the set ``on``: its inputs, but a shared copy of its own (from the private one, as made) of each
    input the reference updates in place, so that no call starts from another's updates; outputs of its own."""
    from pytest_solbench.data import inputs

    shared = [arena.share(on.private[i]) if i in updated else (t, d)
              for i, (t, d) in enumerate(zip(on.inputs, on.payload["inputs"]))]  # fmt: skip
    outs = [arena.share(o) for o in inputs.allocate_outputs(problem.definition, axis_values, request.device)]
    payload = {"inputs": [d for _, d in shared], "outputs": [d for _, d in outs]}
    return _Set([t for t, _ in shared], [t for t, _ in outs], payload, on.private)


def _expected(reference: Any, args: list, definition: Any) -> tuple[list, dict]:
    """The reference's outputs on a clone of ``args``, and the inputs it updates in place (``worker.inplace``)."""
    import torch

    from pytest_solbench.data import inputs
    from pytest_solbench.worker import inplace

    try:
        with phases.phase("reference"):
            after = inputs.clone_inputs(args)
            with torch.no_grad():
                outputs = as_outputs(reference(*after), definition)
            return outputs, inplace.find(reference, args, after, inputs.changed(args, after))
    except Exception as exc:
        from pytest_solbench.worker.execute import _short_traceback

        raise Verdict(failure(Status.INVALID_REFERENCE, f"the reference raised: {_short_traceback(exc)}")) from None


class _Wrong(Exception):
    """A timed call's output or in-place update is wrong (``_recheck`` decides what that means)."""


def _check_sets(kernel: Kernel, sets: list[_Set], request: ItemRequest, problem: Any, workload: Any, reference: Any,
                updated: set[int], what: Any = lambda k: f"the last timed call on input set {k + 1}",
                expected: dict[int, tuple[list, dict]] | None = None) -> dict:  # fmt: skip
    """Each set's inputs unchanged (but for the reference's own in-place updates) and its outputs, those of the last
    call on it (``what(k)`` names it), right; a wrong one is called again untimed (``_recheck``). Returns the
    reference's run on each private copy (``_expected``, by ``id``; ``expected``: those made already), for the call
    after the timed ones."""
    from pytest_solbench.data import inputs
    from pytest_solbench.guard import tripwires

    definition = problem.definition
    names = [s.name for s in definition.inputs]
    expected = dict(expected or {})  # by private copy: calls on one set share the reference's run
    for k, s in enumerate(sets):
        trip = tripwires.mutated(inputs.changed(s.private, s.inputs), names, updated)
        if trip is not None:
            raise hack(trip.rule, f"in {what(k)}: {trip.message}")
        if id(s.private) not in expected:
            expected[id(s.private)] = _expected(reference, s.private, definition)
        outputs, written = expected[id(s.private)]
        try:
            with phases.phase("compare"):
                _compare_updated(definition, workload, request, s.inputs, s.private, written, what(k))
                _compare_outputs(definition, workload, request, s.outputs, outputs, what(k))
        except _Wrong as wrong:
            raise _recheck(kernel, problem, workload, s.private, outputs, written, what(k), str(wrong)) from None
    return expected


def _recheck(kernel: Kernel, problem: Any, workload: Any, private: list, expected: list, written: dict, what: str,
             why: str) -> Verdict:  # fmt: skip
    """A timed call was wrong; the same inputs once more, in a plain correctness call. Right there, the kernel did
    less work when timed than when checked: ``timed-output``. Wrong there too, it is wrong on these inputs, not only
    when timed: INCORRECT, with no accusation (an honest kernel with a bug that only some input values show, such as
    a tail or a tie the correctness rounds missed). A kernel that goes wrong after its first calls (a counter, a
    cache that fills) is then INCORRECT too, and fails all the same."""
    from pytest_solbench.judge.referee import checked_call

    where = f"{what} is wrong, and so is an untimed call on the same inputs (wrong on them, timed or not)"
    fault, _ = checked_call(kernel, problem.definition, workload, private, expected, written, where, {})
    if fault is None:
        return hack("timed-output", f"{what} is wrong, though the checked calls were right, and so was an untimed "
                    f"call on the same inputs: {why}")  # fmt: skip
    return Verdict(fault)


def _compare_updated(definition: Any, workload: Any, request: ItemRequest, got: list, private: list, written: dict,
                     what: str) -> None:  # fmt: skip
    """The inputs the reference updates in place, as the reference left them (``worker.inplace``)."""
    from pytest_solbench.worker import inplace

    fault = inplace.verdict(definition, workload, request.reduction_len, got, private, written, what, {})
    if fault is not None and fault.rule:
        raise Verdict(fault)
    if fault is not None:
        raise _Wrong(fault.log.split(": ", 1)[-1].splitlines()[0])


def _compare_outputs(definition: Any, workload: Any, request: ItemRequest, got: list, expected: list,
                     what: str) -> None:  # fmt: skip
    from pytest_solbench.worker import check

    for spec, value, ref in zip(definition.outputs, got, expected):
        if not isinstance(ref, (int, float)) and not hasattr(ref, "shape"):
            continue  # the reference's own fault; the correctness rounds already said so
        tol = check.tolerance_for(spec.dtype, workload.tolerance, reduction_len=request.reduction_len)
        _stats, mismatch = check.check_output(spec.name, value, ref, tol, expected_dtype=spec.dtype)
        if mismatch is not None:
            raise _Wrong(mismatch.message().splitlines()[0])


def _kernel_sets(measured: dict[str, Any]) -> None:
    """Under CUPTI: every timed call launched GPU work, and the calls on one input set the same kernels each time.
    Calls on different values may launch different kernels (a library picks its softmax by a length the inputs set:
    torch's paged decode on an H100 did), so the sets are compared per input set; what an untimed call launches on
    the same values is compared by ``_call_after``."""
    if measured["method"] != "cupti":
        return
    if measured["calls_without_kernels"]:
        raise hack("no-kernel", f"{measured['calls_without_kernels']} timed call(s) launched no GPU work: a result "
                   "served from a cache, or work done before the timer started")  # fmt: skip
    if measured["distinct_kernel_sets"] > 1:
        names = ", ".join(list(measured["kernel_names"])[:6])
        raise hack("kernel-set-changed", f"timed calls on the same inputs launched {measured['distinct_kernel_sets']} "
                   f"different sets of kernels ({names}): work skipped on some calls")  # fmt: skip


def _timer_kept(request: ItemRequest, last: Checked | None, measured: dict[str, Any]) -> None:
    """CUPTI asked for, and it named the kernels of the last correctness round in this same process: the timed calls
    must come back timed by it. Every kernel-set check here reads CUPTI's sets, and a measurement that fell back to
    events carries none: a kernel that raised inside the CUPTI samples (told by the stack) turned them all off
    (red-team round 68, ep03, modelled)."""
    if request.timing.timer != "cupti" or last is None or last.kernel_names is None or measured["method"] == "cupti":
        return
    why = next((n for n in measured.get("notes") or () if "CUPTI" in n), "no reason given")
    raise hack("kernel-set-changed", f"the timed calls came back timed by {measured['method']}, not CUPTI ({why}), "
               "though CUPTI named the kernels of the checked calls in the same process: the timed calls' kernels "
               "could not be held to the checked calls'")  # fmt: skip


def _first_calls(kernel: Kernel, problem: Any, workload: Any, reference: Any, sets: list[_Set],
                 last: Checked | None) -> tuple[list | None, dict | None]:  # fmt: skip
    """Under CUPTI (the last correctness round said which kernels it launched), one checked call on each timed set's
    values before any timed call, all in one request: the first calls the kernel's process ever makes on them, and
    the kernels each launched (with the reference's run on each set, ``_expected`` by ``id``, which ``_check_sets``
    uses again); (None, None) elsewhere. The timed phase calls each set many times: a kernel that keeps results by
    their values, or does less work on values it has seen, launches other kernels on those repeats, and the untimed
    call after the timed ones, a repeat too, matched them (red-team round 63, eb01, modelled). ``_first_kernels``
    holds each set's timed kernels to its first call's."""
    from pytest_solbench.judge.referee import Case

    if last is None or last.kernel_names is None:
        return None, None
    expected = {id(s.private): _expected(reference, s.private, problem.definition) for s in sets}
    cases = [Case(s.private, *expected[id(s.private)], f"a first call on the values of input set {k + 1}, before "
                  "the timed calls") for k, s in enumerate(sets)]  # fmt: skip
    return _calls(kernel, problem, workload, cases, True), expected


def _first_kernels(first: list | None, measured: dict[str, Any]) -> None:
    """Each set's timed calls launched the kernels of the first call on its values (``_first_calls``)."""
    by_set = measured["kernel_names_by_set"] if measured["method"] == "cupti" else []
    for k, (names, timed_names) in enumerate(zip(first or [], by_set)):
        if names is not None and timed_names:
            _same_kernels(names, timed_names, f"a first call on the values of input set {k + 1} launched",
                          "the timed calls on them", "the timed calls did other work than a first call on the same "
                          "values (a result kept from a call before, or work skipped on values seen)")  # fmt: skip


def _calls_after(kernel: Kernel, request: ItemRequest, problem: Any, workload: Any, reference: Any, sets: list[_Set],
                 measured: dict[str, Any] | None, last: Checked, known: tuple[list, dict] | None = None) -> None:
    """Checked calls after the timed ones, recorded as every checked call is (``guard.dispatched``): a kernel that ran
    a vendor op only once the correctness rounds were over passed (red-team round 19, w08). Under CUPTI (the last
    correctness round and the timed calls said which kernels they launched) there are two, each held to a call on the
    same values, since a kernel may launch other kernels on other values (torch's softmax variant follows a length
    the paged decode's inputs set; comparing calls on different values failed the README's decode example):
    - the last round's values again: the kernels of the round's call, the first ever on those values, or a result
      served from a cache keyed on them (red-team: ``judge_value_cache``);
    - a timed set's values (its private copy, never shared as made): the kernels its timed calls launched, or the
      timed work is not the checked work (a kernel that tells timed calls apart).
    Elsewhere (CPU, events) one call on a timed set's values, for the record. The calls go in one request
    (``referee.checked_calls``) and are held in this order; ``known``: the reference's outputs and in-place updates on
    that set's values, where ``_check_sets`` ran it already (it is not run twice)."""
    from pytest_solbench.judge.referee import Case

    by_set = measured["kernel_names_by_set"] if measured and measured["method"] == "cupti" else []
    compare = _compared_set(measured, sets)
    vendor_check = request.guard and "vendor-op" not in request.allowed_rules and request.tenant != "reference"
    again = last.kernel_names is not None and bool(by_set)
    fresh = make_inputs(problem, workload, problem.definition.axis_values(workload.axes),
                        _timed_seed(request.seed, workload.uuid, AFTER_ROUND), request)  # fmt: skip
    at = list(zip(sets[0].inputs, sets[0].payload.get("inputs", ())))  # the first timed set's own memory
    cases = [Case(fresh, *_expected(reference, fresh, problem.definition), "new values after the timed calls, written "
                  "into input set 1's own memory (a result kept by its address or its memory is the old values')",
                  at)]  # fmt: skip
    if again:
        cases.append(Case(last.args, last.expected, last.updated,
                          "the last correctness round's values, called again after the timed calls"))
    if compare is not None or vendor_check:
        on = sets[compare or 0]
        done = known if known is not None else _expected(reference, on.private, problem.definition)
        cases.append(Case(on.private, *done, f"an untimed call after the timed ones, on the values of input set "
                          f"{(compare or 0) + 1}"))  # fmt: skip
    names = _calls(kernel, problem, workload, cases, again or compare is not None, by_set)[1:]
    if again:
        _same_kernels(last.kernel_names, names[0], "the last correctness round launched", "a second call on the same "
                      "values after the timed calls", "a result served from a cache keyed on the values")  # fmt: skip
    if compare is not None:
        _same_kernels(by_set[compare], names[-1], f"the timed calls on input set {compare + 1} launched",
                      "an untimed call on the same values", "the timed work is not the checked work")  # fmt: skip


def _compared_set(measured: dict[str, Any] | None, sets: list[_Set]) -> int | None:
    """The timed set whose kernels (CUPTI) an untimed call after the timed ones is held to: the first that has some."""
    by_set = measured["kernel_names_by_set"] if measured and measured["method"] == "cupti" else []
    return next((k for k, names in enumerate(by_set) if names and k < len(sets)), None)


def _calls(kernel: Kernel, problem: Any, workload: Any, cases: list, kernels: bool,
           timed_names: list | tuple = ()) -> list[list[str] | None]:  # fmt: skip
    """Checked calls in one request (``referee.checked_calls``) that must all be right; the kernels each launched
    when ``kernels``; the timed calls' kernels (``timed_names``) judged beside that request's record."""
    from pytest_solbench.judge.referee import checked_calls

    wrong, names = checked_calls(kernel, problem.definition, workload, cases, {}, kernels=kernels,
                                 timed_names=timed_names)  # fmt: skip
    if wrong is not None:
        raise Verdict(wrong)
    return names


def _same_kernels(first: list[str], then: list[str] | None, first_said: str, then_said: str, meaning: str) -> None:
    if then is not None and set(first) != set(then):
        raise hack("kernel-set-changed", f"{first_said} {sorted(first)[:6]}, {then_said} {sorted(then)[:6]}: "
                   f"{meaning}")  # fmt: skip


def _summary(reported: dict[str, Any], before: Any, after: Any, device: str) -> dict[str, Any]:
    """The measurement with its figures recomputed from the raw samples and the clocks the judge read itself."""
    from pytest_solbench.measure.timing import summarize

    figures = {"samples_ms", "median_ms", "min_ms", "q1_ms", "q3_ms", "mean_ms", "stdev_ms", "n", "method"}
    fields = {k: v for k, v in reported.items() if k not in figures}
    fields.update(notes=tuple(map(escape_controls, reported["notes"])), clocks_before=before, clocks_after=after,
                  kernel_names=tuple(map(escape_controls, reported["kernel_names"])),
                  stop_reason=escape_controls(reported["stop_reason"]))  # its process's words, made visible (j05)
    return summarize(reported["samples_ms"], reported["method"], **fields).to_dict()


def _outside_clock(kernel: Kernel, request: ItemRequest, problem: Any, workload: Any, axis_values: dict[str, int],
                   reference: Any, measured: dict[str, Any], updated: set[int]) -> None:  # fmt: skip
    """The judge's own batches of timed calls on fresh inputs, held against the reported median. A batch that
    contradicts the report is tried again on other fresh inputs, up to ``OUTSIDE_TRIES`` batches, and the fastest
    one stands: noise (another process on the host, a late reply) only ever adds time, so an honest kernel is not
    failed by one slow batch, while work a kernel hides shows in every batch."""
    best = None
    for attempt in range(OUTSIDE_TRIES):
        clock = _outside_batch(kernel, request, problem, workload, axis_values, reference, updated, attempt)
        best = clock if best is None or clock.per_call_ms < best.per_call_ms else best
        if corroborate.contradiction(measured["median_ms"], best) is None:
            break
    tries = f" (the fastest of {attempt + 1} batches)" if attempt else ""
    measured.setdefault("notes", []).append(f"outside clock: {best.per_call_ms:.4g} ms per call over {best.calls} "
                                            f"calls on fresh inputs{tries}")  # fmt: skip
    why = corroborate.contradiction(measured["median_ms"], best)
    if why:
        raise hack(corroborate.RULE, f"{why}; {attempt + 1} batches on fresh inputs, the fastest shown")


def _outside_batch(kernel: Kernel, request: ItemRequest, problem: Any, workload: Any, axis_values: dict[str, int],
                   reference: Any, updated: set[int], attempt: int) -> corroborate.OutsideClock:  # fmt: skip
    """One batch of timed calls on fresh inputs, each call on a set of its own, timed from here; the inputs and
    outputs of calls picked at random afterwards checked."""
    first = FRESH_ROUND + attempt * MAX_BATCH_CALLS  # no set repeats, within a batch or across them

    def fresh(c: int) -> _Set:
        inputs = make_inputs(problem, workload, axis_values, _timed_seed(request.seed, workload.uuid, first + c),
                             request)  # fmt: skip
        with phases.phase("share"):
            return _share(arena, request, problem, axis_values, inputs, True)

    with kernel.arena() as arena:
        sets = [fresh(0)]
        calls = _fresh_calls(_nbytes(sets[0].private), _nbytes(sets[0].outputs), request.timing.rotation_bytes)
        sets += [fresh(c) for c in range(1, calls)]
        # Mapped first, outside the clock (opening CUDA IPC handles took 0.7 ms per call on an H100); the values are
        # written only after, so the kernel's process cannot work them out ahead.
        kernel.ask("attach_sets", {"device": request.device, "sets": [s.payload for s in sets]}, schema.ping)
        payload = {"key": kernel.key, "device": request.device, "timing": asdict(request.timing),
                   "attached": True, "check_later": True, "schedule": list(range(calls))}  # fmt: skip
        round_trip = min([kernel.round_trip_ms, *(kernel.ping_ms() for _ in range(3))])  # never more than before import
        with phases.phase("fixed costs"), kernel.paused():  # the kernel's threads cannot spin to slow the judge's
            fixed = _fixed_ms(request, [s.outputs for s in sets])  # loop and raise its allowance
        with phases.phase("share"):
            _reveal(sets)
        answer = kernel.ask("timed", payload, schema.batch)
        wall = kernel.reply_ms  # sent -> reply arrived, as the round trip: the judge's work after it is its own
        picked = random.SystemRandom().sample(range(calls), min(calls, CHECKED_PER_BATCH))
        with phases.phase("copies"):
            seen = _as_replied([sets[c] for c in picked])  # before "checked": work done after the reply is not seen
        _answered(kernel, answer)
        after = kernel.ask("checked", {}, schema.batch)
        _answered(kernel, after)
        kernel.judge_ops(after.get("ops"), problem.definition.op_type)  # what the batch's let-go ran (round 54)
        _check_sets(kernel, seen, request, problem, workload, reference, updated,
                    what=lambda k: f"timed call {picked[k] + 1} of the judge's batch")  # fmt: skip
    return corroborate.OutsideClock(wall, calls, round_trip, fixed)


def _fresh_calls(input_bytes: int, output_bytes: int, rotation_bytes: int) -> int:
    """Calls in the outside batch, one fresh set each: as many as fit the rotation budget (inputs shared and kept
    private) and the output budget, 2 to ``MAX_BATCH_CALLS``."""
    fit = min(rotation_bytes // max(2 * input_bytes, 1), BATCH_OUTPUT_BYTES // max(output_bytes, 1))
    return int(max(2, min(MAX_BATCH_CALLS, fit)))


def _wall_ms(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1e3


def _fixed_ms(request: ItemRequest, outs: list[list]) -> float:
    """The judge's own batch of the same calls with nothing in them: poisoning outputs, the L2 flush, the loop."""
    from pytest_solbench.measure import timing

    flush = None
    if request.device.startswith("cuda") and request.timing.l2_flush_bytes != 0:
        from pytest_solbench.worker.bench import _flusher

        nbytes = request.timing.l2_flush_bytes
        flush = _flusher(request.device, nbytes) if nbytes else timing.L2Flusher.for_device(request.device)

    from pytest_solbench.data.inputs import poison_

    def prepare(i: int) -> None:
        for out in outs[i]:
            poison_(out)

    return _wall_ms(lambda: timing.run_batch(lambda i: None, prepare=prepare, flush=flush, n=len(outs),
                                             device=request.device))  # fmt: skip

"""One item decided by the judge: inputs, reference, the kernel's calls in its own process, compare, verdict.

``judge_item`` runs in the judge's process (a worker of the controller that never imports kernel code). It drives
the kernel's process (a plain worker: JSON replies only, ``worker.harness`` on its side) through ``Kernel``: it makes
each round's inputs from the seed, runs the reference on clones, shares copies of the inputs and NaN-poisoned
outputs with the kernel's process (``worker.shm``), compares those inputs after the call byte for byte with its
private copy (those the reference updates in place with what it writes there, ``worker.inplace``), compares the
outputs in its own memory and decides the status. The kernel's process can only report: a reply off the schema
(``judge.reply``) is ``REWARD_HACK [reply-schema]``, a tripwire it reports is that rule, and the timed phase's
claims are checked by ``judge.timed``. The requests and replies themselves go through ``judge.kernel``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from typing import Any

from pytest_solbench.judge import constant_inputs, memory, phases
from pytest_solbench.judge import reply as schema
from pytest_solbench.judge.kernel import Kernel, Verdict, hack, kernels_pids, stopped, tripped
from pytest_solbench.protocol import ItemOutcome, ItemRequest, Status, failure
from pytest_solbench.worker import execute
from pytest_solbench.worker.rounds import make_problem_inputs, round_seed
from pytest_solbench.worker.shm import torch_dtype

#: the phase of the checked calls' time the kernel's own code took (its JIT, autotuning on a new shape): the
#: kernel's, not the judge's overhead (benchmarks/item_overhead.py reports the item's time both with and without it)
KERNEL_CODE = "kernel code"

__all__ = ["Case", "Kernel", "Verdict", "checked_call", "checked_calls", "judge_item", "make_inputs",
           "received"]  # Kernel, Verdict: kept here


def judge_item(request: ItemRequest) -> ItemOutcome:
    """The item's outcome; a failure on the GPU that left the kernel's process unhealthy (an illegal address, a
    device-side assert) retires that process, so the kernel's next item starts on a fresh one, and so does any
    REWARD_HACK: nothing a caught item left in its process serves the next."""
    _undumpable_once()
    phases.begin()
    with _kernels_stopped(request):
        with phases.phase("process"):
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
    elif outcome.status is Status.REWARD_HACK:  # what a caught item prepared in its process serves no later item
        kernel.pools.retire(kernel.tenant)  # (red-team round 28, am05: a fused graph built where it was caught)
    memory.note(f"{request.kernel.get('name')} {request.workload_uuid}")  # SOLBENCH_JUDGE_MEMORY only
    return replace(outcome, judge_phases_s=phases.taken(), judge_spent=spent(request.device))


#: The share of the card's memory the judge's process may still hold after an item (reserved by its allocator);
#: past it, the controller replaces the process (``WorkerPool(spent=...)``). Between items it holds the L2 flush
#: buffer and at most ``cuda_blocks.FREE_KEPT_BYTES`` of free cache, but blocks it shared with kernels' processes
#: stayed allocated with no tensor left on them: 31 GiB over the README job's 97 items on an H100 (sessions 19 and
#: 20, ``judge.memory``); their holder is not found.
SPENT_SHARE = 0.3


def spent(device: str) -> bool:
    """Whether the judge's process holds more than ``SPENT_SHARE`` of the card, now that the item is over."""
    if not device.startswith("cuda"):
        return False
    import torch

    if not torch.cuda.is_initialized():
        return False
    total = torch.cuda.get_device_properties(device).total_memory
    return torch.cuda.memory_reserved(device) > SPENT_SHARE * total


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
    return stopped(kernels_pids("cuda" if request.device.startswith("cuda") else "cpu"))


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

    with phases.phase("problem"):
        problem = execute._problem(request.definition_path, request.blob_root, request.bind_by_name)
        definition = problem.definition
        workload = execute._workload(problem, request.workload_uuid)
        axis_values = definition.axis_values(workload.axes)
        try:
            reference = execute._reference(definition)
        except Exception as exc:
            return failure(Status.INVALID_REFERENCE, f"the reference does not load: {execute._short_traceback(exc)}")
    dps = kernel.load(definition.op_type)
    worst: dict[str, dict[str, float]] = {}
    counted, last, per_request, pending = None, None, 1, []
    tables = _Tables(definition)
    for round_index in range(request.rounds):
        seed = round_seed(request.seed, workload.uuid, round_index)
        args = make_inputs(problem, workload, axis_values, seed, request)
        if round_index == 0:
            broken = execute._broken_constraint(definition, axis_values, args)
            if broken:
                return failure(Status.INVALID_REFERENCE, broken)
            if request.count_flops:
                with phases.phase("flops"):
                    counted = execute._count_flops(reference, args)
            per_request = rounds_per_request(definition, axis_values, args, request.timing.rotation_bytes)
        args, done = tables.vary(args, seed, lambda a: expected_outputs(reference, a, definition, request.device))
        if isinstance(done, ItemOutcome):
            return done
        pending.append(Case(args, *done, f"round {round_index + 1} (seed {seed}{tables.said()})"))
        final = round_index == request.rounds - 1  # on the GPU it says which kernels it launched
        if not sent_after(round_index, request.rounds, len(pending), per_request, request.device.startswith("cuda")):
            continue
        wrong, names = checked_calls(kernel, definition, workload, pending, worst, kernels=final)
        if wrong is not None:
            return wrong
        if final:
            last = timed.Checked(pending[-1].args, pending[-1].expected, pending[-1].updated, names[-1])
        pending = []
    correctness = execute._summarize_errors(worst) if request.rounds else None
    # The input bytes the timed inputs reach (routed experts, paged caches), found here where no kernel code runs.
    touched = None
    if request.count_touched:
        with phases.phase("touched bytes"):
            touched = execute._touched(problem, workload, axis_values, reference, request,
                                   timed.first_set_seed(request, workload))
    try:  # the timed calls, their checks and one checked call after them (``timed._call_after``)
        measured = timed.check_timed(kernel, request, problem, workload, axis_values, reference, last)
    except Verdict as verdict:
        raise Verdict(_with(verdict.outcome, correctness=correctness)) from None
    return ItemOutcome(Status.PASSED, correctness=correctness, kernel_timing=measured, destination_passing=dps,
                       flops_by_dtype=counted, touched_bytes=touched)  # fmt: skip


class _Tables:
    """The judge's hold on inputs every seed makes alike (``constant_inputs``): seen in the first round, other values
    from the second on, unless the reference cannot run on them."""

    def __init__(self, definition: Any) -> None:
        self.names = [spec.name for spec in definition.inputs]
        self.fixed = constant_inputs.fixed_names(definition.tags)
        self.first: list | None = None
        self.on = True
        self.varied: list[str] = []  # the last round's varied inputs, for its messages

    def vary(self, args: list, seed: int, expected: Any) -> tuple[list, Any]:
        """The round's inputs (the first round's as made) and ``expected(inputs)``, the reference's outputs."""
        if self.first is None:
            self.first = constant_inputs.fingerprints(args)
            return args, expected(args)
        positions = constant_inputs.constant_positions(self.first, args, self.names, self.fixed) if self.on else []
        self.varied = [self.names[p] for p in positions]
        if not positions:
            return args, expected(args)
        other = constant_inputs.varied(args, positions, seed)
        done = expected(other)
        if not isinstance(done, ItemOutcome) and constant_inputs.all_finite(done[0]):
            return other, done
        plain = expected(args)
        if isinstance(plain, ItemOutcome) or not constant_inputs.all_finite(plain[0]):
            return (args, plain) if isinstance(done, ItemOutcome) else (other, done)  # not the other values' doing
        self.on, self.varied = False, []  # the reference needs the table as made: the kernel gets it so from here on
        return args, plain

    def said(self) -> str:
        """What a message of this round says of the inputs the judge varied: a kernel that assumed a table's values
        learns why a later round failed where the first passed (red-team round 70, ew)."""
        if not self.varied:
            return ""
        spread = constant_inputs.SPREAD
        return (f"; {', '.join(self.varied)} scaled element by element within [{1 - spread}, {1 + spread}]: every seed "
                "made them alike")


def said_launched(reply: dict[str, Any], asked: bool, where: str) -> list[str] | None:
    """The kernels a checked call says it launched. Where the judge asked (CUPTI, on the GPU), the profile covers every
    call of the request, so a call that says nothing would switch off the kernel-set checks that read it."""
    if asked and reply["kernel_names"] is None:
        raise hack("reply-schema", f"a checked call asked which kernels it launched ({where}) said nothing")
    return reply["kernel_names"]


@dataclass(frozen=True)
class Case:
    """One checked call to make: its inputs (the judge's private copy, shared as copies), the reference's outputs
    and in-place updates on them, and where it stands, for the messages. ``into``: shared tensors already made,
    (tensor, description) per input, that ``args``' values are written into instead (a timed set's own memory)."""

    args: list
    expected: list
    updated: dict
    where: str
    into: list | None = None


def _shared_inputs(arena: Any, case: Case) -> list:
    """A case's inputs in shared memory: copies of ``args``, or ``args``' values written into ``case.into``'s tensors
    byte for byte (non-tensors passed by value)."""
    from pytest_solbench.worker.shm import write

    if case.into is None:
        return [arena.share(a) for a in case.args]
    shared = []
    for (tensor, desc), value in zip(case.into, case.args):
        if hasattr(value, "untyped_storage") and hasattr(tensor, "untyped_storage"):
            write(tensor, value)
            shared.append((tensor, desc))
        else:
            shared.append(arena.share(value))
    return shared


def checked_call(kernel: Kernel, definition: Any, workload: Any, args: list, expected: list, updated: dict, where: str,
                 worst: dict[str, dict[str, float]], kernels: bool = False) -> tuple[ItemOutcome | None, Any]:
    """One checked call (``checked_calls``): the failure it shows (None) and the kernels it launched (when
    ``kernels``)."""
    wrong, names = checked_calls(kernel, definition, workload, [Case(args, expected, updated, where)], worst, kernels)
    return wrong, names[0] if names else None


def checked_calls(kernel: Kernel, definition: Any, workload: Any, cases: list[Case], worst: dict[str, dict[str, float]],
                  kernels: bool = False, timed_names: list | tuple = ()) -> tuple[ItemOutcome | None, list]:  # fmt: skip
    """Untimed calls, one per case, on copies of its ``args`` in shared memory and into outputs of its own, all in
    ONE request: the kernel's process runs them back to back under one operator record (``guard.dispatched``; on the
    GPU with ``kernels``, one CUPTI profile that also says which kernels each launched) and answers per call. Each
    is then held, in order, as a request of its own was: what it raised, its tripwires, its inputs byte for byte
    against the private copy, its in-place updates and its outputs against the case's. The first failure is the
    verdict (None: every call was right), with the kernels each call before it launched (None each unless
    ``kernels``). The record's operators are judged once, for the request, after the first call's tripwires
    (``Kernel.judge_ops``).

    Every call's inputs and outputs are shared before the first runs (a call sees no expected output, only inputs and
    outputs poisoned with NaN, as in the timed phase); a call that changes another's inputs fails that call's
    byte-for-byte check, and one that writes another's outputs ahead of it only does that call's work.

    ``timed_names``: the kernels timed calls launched (CUPTI's, one list per input set), held once every call was
    right to the library work this request's record accounts for, as its own calls' are: timed calls have no
    record of their own, and a set's kernels are compared with a checked call's only for one set (red-team round 56,
    dg: library kernels on the other sets were judged nowhere)."""
    from pytest_solbench.data import inputs

    request = kernel.request
    axis_values = definition.axis_values(workload.axes)
    with kernel.arena() as arena:
        with phases.phase("share"):
            shared = [_shared_inputs(arena, case) for case in cases]
            outs = [[arena.share(o) for o in inputs.allocate_outputs(definition, axis_values, request.device)]
                    for _ in cases]  # fmt: skip
        calls = [{"inputs": [d for _, d in s], "outputs": [d for _, d in o]} for s, o in zip(shared, outs)]
        answer = kernel.ask("call", {"key": kernel.key, "device": request.device, "calls": calls, "kernels": kernels},
                            lambda value: schema.calls(value, len(cases)))  # fmt: skip
        phases.moved("kernel call", KERNEL_CODE, answer["kernel_s"])  # the kernel's own time, its JIT: not the judge's
        names: list = []
        raised = any("error" in reply for reply in answer["calls"])
        if raised:  # what ran before the raise is judged all the same
            kernel.judge_ops(answer["ops"], definition.op_type)  # (red-team round 36, bc03), and what it left in its
            kernel.pools.retire(kernel.tenant)  # process serves no later item, as after a timed call's raise
        for k, (case, reply) in enumerate(zip(cases, answer["calls"])):
            if "error" in reply:
                return failure(Status.RUNTIME_ERROR, reply["error"]), names
            tripped(reply["trip"])
            if k == 0 and not raised:  # judged above where a call raised: once a request
                kernel.judge_ops(answer["ops"], definition.op_type)
            wrong = _held(kernel, definition, workload, case, [t for t, _ in shared[k]], [t for t, _ in outs[k]],
                          reply["outputs"], worst)  # fmt: skip
            launched = said_launched(reply, kernels and request.device.startswith("cuda"), case.where)
            kernel.judge_kernels(launched, answer["ops"], definition.op_type)
            names.append(launched)
            if wrong is not None:
                return wrong, names
        for launched in timed_names:
            kernel.judge_kernels(launched, answer["ops"], definition.op_type)
        return None, names


def _held(kernel: Kernel, definition: Any, workload: Any, case: Case, shared: list, outs: list, described: list | None,
          worst: dict[str, dict[str, float]]) -> ItemOutcome | None:  # fmt: skip
    """One call's inputs (unchanged but for the reference's in-place updates, then those updates) and outputs."""
    from pytest_solbench.data import inputs
    from pytest_solbench.guard import tripwires
    from pytest_solbench.worker import inplace

    request = kernel.request
    with phases.phase("compare"):
        names = [s.name for s in definition.inputs]
        trip = tripwires.mutated(inputs.changed(case.args, shared), names, set(case.updated))  # vs private
        if trip is not None:
            raise hack(trip.rule, trip.message)
        got = received(definition, kernel.destination_passing, described, outs)
        wrong = inplace.verdict(definition, workload, request.reduction_len, shared, case.args, case.updated,
                                case.where, worst)  # fmt: skip
        return wrong or execute._compare(definition, workload, request, got, case.expected, case.where, worst)


def sent_after(round_index: int, rounds: int, pending: int, per_request: int, last_alone: bool) -> bool:
    """Whether the ``pending`` rounds made so far go in a request once round ``round_index`` is made: when they fill
    one (``rounds_per_request``), at the last round, and with ``last_alone`` (the GPU, where the last round's request
    runs under CUPTI's profile to say which kernels it launched) before the last round too, so that the profile holds
    that call alone, as before requests held several: never the first call's JIT compiling and autotuning, whose
    kernels could crowd the profile's buffers."""
    final = round_index == rounds - 1
    return pending >= per_request or final or (last_alone and round_index == rounds - 2)


def rounds_per_request(definition: Any, axis_values: dict[str, int], args: list, budget_bytes: int) -> int:
    """How many correctness rounds one request holds (``checked_calls``): as many as the rotation budget holds of
    their inputs and outputs together (each round's are shared at once, the judge keeping its private copy and the
    reference's outputs too), at least one; a round's verdict is given in order whatever the rounds after it did."""
    from pytest_solbench.data import inputs

    outputs = inputs.allocate_outputs(definition, axis_values, "meta")
    nbytes = sum(t.numel() * t.element_size() for t in [*args, *outputs] if hasattr(t, "element_size"))
    return max(1, int(budget_bytes // max(nbytes, 1)))


def _with(outcome: ItemOutcome, **fields: Any) -> ItemOutcome:
    return replace(outcome, **{k: v for k, v in fields.items() if getattr(outcome, k) is None})


def make_inputs(problem: Any, workload: Any, axis_values: dict[str, int], seed: int, request: ItemRequest) -> list:
    """One set of inputs from a seed, made here in the judge; a missing blob skips, any other failure is the
    problem's."""
    from pytest_solbench.data import inputs

    try:
        with phases.phase("inputs"):
            return make_problem_inputs(problem, workload, axis_values, seed, request.device, request.blob_root)
    except inputs.MissingBlob as exc:
        raise Verdict(failure(Status.SKIPPED, f"input blob missing: {exc}")) from None
    except Exception as exc:
        why = f"making inputs failed: {execute._short_traceback(exc)}"
        raise Verdict(failure(Status.INVALID_REFERENCE, why)) from None


def expected_outputs(reference: Any, args: list, definition: Any, device: str) -> Any:
    """``execute._expected`` (the reference on clones of ``args``), counted as the judge's reference time."""
    with phases.phase("reference"):
        return execute._expected(reference, args, definition, device)


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

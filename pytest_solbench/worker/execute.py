"""One item with kernel and checker in one process: inputs, reference, kernel, correctness rounds, then timings.

``run_item`` serves ``--solbench-isolate none`` (debugging; verdicts unprotected). By default the judge decides
(``judge.referee``), reusing the helpers here (the problem cache, the reference, comparing, summaries) in its own
process, and the kernel's process loads the kernel through ``_kernel`` (``worker.harness``). This module imports
no pytest. It receives a ``protocol.ItemRequest`` and returns a ``protocol.ItemOutcome``.

Long: the in-process item and the steps of it the judge reuses are one sequence; split, each half would import the
other.
"""

from __future__ import annotations

import contextlib
import functools
import os
import traceback
from pathlib import Path
from typing import Any

from pytest_solbench.data import kernels
from pytest_solbench.protocol import ItemOutcome, ItemRequest, Status, failure
from pytest_solbench.worker import interpreter
from pytest_solbench.worker.rounds import TIMED_ROUND, as_outputs, make_problem_inputs, round_seed
from pytest_solbench.data.trace import Definition, Problem, Workload, load_problem

# ---------------------------------------------------------------- caches that live as long as the worker


@functools.lru_cache(maxsize=64)
def _problem(path: str, blob_root: str | None = None, bind_by_name: bool = False) -> Problem:
    return load_problem(Path(path), Path(blob_root) if blob_root else None, bind_by_name)


def _reference(definition: Definition) -> Any:
    """The reference's run(), taking the inputs in the definition's order whatever order it names them in."""
    return definition.positional_reference(kernels.reference_namespace(definition)["run"])


@functools.lru_cache(maxsize=64)
def _compiled(fn: Any) -> Any:
    """``torch.compile`` of an entry function (the reference, for ``--solbench-baseline compile``)."""
    import torch

    return torch.compile(fn)


_KERNELS: dict[str, tuple[Any, bool, Any]] = {}


def kernel_key(spec: kernels.KernelSpec) -> str:
    """What a loaded kernel is kept under in this process: its file, entry and content."""
    return f"{spec.path}::{spec.entry_symbol}::{spec.content_hash()}"


def _kernel(spec: kernels.KernelSpec, definition: Definition, guard: bool) -> tuple[Any, bool, Any]:
    """The entry function, whether it is destination-passing, and its tripwires (None for the reference or with
    the guard off), which are armed before the kernel's code is first imported."""
    key = kernel_key(spec)
    if key not in _KERNELS:
        wires = None
        if guard and not spec.is_reference:
            from pytest_solbench.guard import confine
            from pytest_solbench.guard.tripwires import Tripwires

            # Confined before anything of the kernel's is written (its sources go to the private temp): done by the
            # process's first call (``confined_warm_up``) before any thread started; here its threads are checked.
            confined = confine.for_kernel()
            if confined is not None and confined.escaped:
                why = "; ".join(f"{m}: {reason}" for m, reason in confined.missing if m in confined.escaped)
                raise kernels.KernelError(Status.RUNTIME_ERROR, "the kernel's process is not confined in every "
                                          f"thread, so the kernel was not loaded: {why}")  # fmt: skip
            wires = Tripwires([str(kernels.source_folder(spec))])
        only = texts = None
        if guard and not spec.is_reference and not spec.sources:  # a solution's: its listed sources (kernels.load)
            from pytest_solbench.guard.bundle import kernel_bundle

            from pytest_solbench.guard.corners import skip_main_blocks

            bundle = kernel_bundle(spec)
            # What the static rules read, compiled from that text: a `__main__` self-test they skip is not run
            # either, whatever the kernel does to its module's name (red-team round 19, w05).
            only, texts = bundle.files, dict(skip_main_blocks(bundle.sources))
        if not spec.is_reference:  # the reference's compiled baseline is torch.compile as users get it (round 28, an07)
            from pytest_solbench.worker.rewrites import keep_attention_written_out

            keep_attention_written_out()  # torch.compile times the kernel's own attention, not torch's library op
        # CPU mode: Triton's interpreter has no timer to tune by, also for an autotune the import runs (round 28, an05)
        interpreter.first_config_autotune(load=True)
        interpreter.widen_bf16_dot()  # CPU mode: the interpreter's bf16 tl.dot multiplied raw storage (round 73, fb)
        with wires.arm() if wires else contextlib.nullcontext():
            fn, dps = kernels.load(spec, definition, only, texts)
        interpreter.first_config_autotune()
        _KERNELS[key] = (fn, dps, wires)
    return _KERNELS[key]


def _workload(problem: Problem, uuid: str) -> Workload:
    for workload in problem.workloads:
        if workload.uuid == uuid:
            return workload
    raise KeyError(f"{problem.definition.name} has no workload {uuid}")


# ---------------------------------------------------------------- helpers


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


_HARNESS = str(Path(__file__).resolve().parents[1])  # the whole package, not only worker/


def _short_traceback(exc: BaseException, limit: int = 6, recorded: bool = True) -> str:
    """The exception first, then the last frames outside the harness: what the kernel's author needs. Where none
    is outside it, the fault is the harness's own: its frames are shown, so the report names where to fix it.
    ``recorded``: inside the judge's record, where the message's code is seen; else ``pool.told`` says it."""
    from pytest_solbench.worker.pool import plain_frames, told

    if recorded:
        every = [(f.filename, f.lineno, f.name, (f.line or "").strip()) for f in traceback.extract_tb(exc.__traceback__)]
    else:  # no source line: linecache would run what the kernel put in its cache (``pool.plain_frames``)
        every = [(path, line, name, "") for path, line, name in plain_frames(exc)]
    frames = [f for f in every if not f[0].startswith(_HARNESS)]
    lines = [f"{type(exc).__name__}: {exc}" if recorded else told(exc)]
    if not frames and every:
        frames, lines = every, [*lines, "  (raised inside pytest-solbench, not the kernel: please report it)"]
    lines += [f"  {path}:{line} in {name}: {text}" for path, line, name, text in frames[-limit:]]
    return "\n".join(lines)


def _broken_constraint(definition: Definition, axis_values: dict[str, int], args: list) -> str | None:
    """The first constraint that reads input values and does not hold for the inputs made (None: all hold)."""
    from pytest_solbench.data.trace import evaluate_constraint, expression_names

    names = {**axis_values, **{spec.name: value for spec, value in zip(definition.inputs, args)}}
    for text in definition.constraints:
        if expression_names(text) <= set(axis_values):
            continue  # checked when the workload file was read
        try:
            if not evaluate_constraint(text, names):
                return f"the inputs made for this workload break constraint {text!r}"
        except Exception as exc:
            return f"constraint {text!r} could not be evaluated: {type(exc).__name__}: {exc}"
    return None


def _call(fn: Any, args: list, outputs: list | None) -> Any:
    if outputs is not None:
        fn(*args, *outputs)
        return outputs
    return fn(*args)


# ---------------------------------------------------------------- the item


class CudaContextLost(RuntimeError):
    """The kernel left this worker's CUDA context unusable (illegal address, device-side assert): raising it makes
    the pool retire the worker, so the next item starts on a fresh one. The verdict rides along as ``outcome``
    (the pool hands it back as ``WorkerError.outcome``), never inside the message."""

    def __init__(self, outcome: ItemOutcome) -> None:
        super().__init__(f"{outcome.status.value}: the kernel broke the worker's CUDA context")
        self.outcome = outcome


def run_item(request: ItemRequest) -> ItemOutcome:
    """``_run_item``, then: a failure that broke the CUDA context becomes a raise, so the worker is replaced."""
    outcome = _run_item(request)
    failed = outcome.status not in (Status.PASSED, Status.SKIPPED)
    if failed and request.device.startswith("cuda") and not health_check():
        raise CudaContextLost(outcome)
    return outcome


def _run_item(request: ItemRequest) -> ItemOutcome:
    """Check one kernel on one workload for ``request.rounds`` rounds of fresh inputs, then time it when asked.

    Longer than most functions on purpose: it reads top to bottom as the correctness contract (DESIGN §5) with the
    tripwires in their places, and every step's failure returns its own outcome right there."""
    from pytest_solbench.data import inputs
    from pytest_solbench.guard import tripwires
    from pytest_solbench.worker import inplace

    problem = _problem(request.definition_path, request.blob_root, request.bind_by_name)
    definition = problem.definition
    workload = _workload(problem, request.workload_uuid)
    axis_values = definition.axis_values(workload.axes)
    device = request.device
    names = [s.name for s in definition.inputs]
    loaded = _load(request, definition)
    if isinstance(loaded, ItemOutcome):
        return loaded
    reference, fn, dps, wires = loaded
    armed = wires.arm if wires is not None else contextlib.nullcontext
    trip = wires.check() if wires is not None else None  # what its import did
    if trip is not None:
        return _hack(trip)

    worst: dict[str, dict[str, float]] = {}
    counted: dict[str, float] | None = None
    updated: dict[int, Any] = {}  # the inputs the reference updates in place, found in each round
    for round_index in range(request.rounds):
        seed = round_seed(request.seed, workload.uuid, round_index)
        try:
            args = make_problem_inputs(problem, workload, axis_values, seed, device, request.blob_root)
        except inputs.MissingBlob as exc:
            return failure(Status.SKIPPED, f"input blob missing: {exc}")
        except Exception as exc:
            return failure(Status.INVALID_REFERENCE, f"making inputs failed: {_short_traceback(exc)}")
        if round_index == 0:
            broken = _broken_constraint(definition, axis_values, args)
            if broken:
                return failure(Status.INVALID_REFERENCE, broken)
            if request.count_flops:
                counted = _count_flops(reference, args)
        done = _expected(reference, args, definition, device)
        if isinstance(done, ItemOutcome):
            return done
        expected, updated = done
        kernel_args = inputs.clone_inputs(args)
        try:
            outputs = inputs.allocate_outputs(definition, axis_values, device) if dps else None
            with armed():
                got = as_outputs(_call(fn, kernel_args, outputs), definition)
                _sync(device)
        except Exception as exc:
            return failure(Status.RUNTIME_ERROR, _short_traceback(exc))
        if wires is not None:
            if round_index == 0:
                wires.settle()  # the threads and processes a first call may start (JIT, autotune) are its own
            trip = (wires.check() or tripwires.mutated(inputs.changed(args, kernel_args), names, set(updated))
                    or (None if dps else tripwires.strict_outputs([o.name for o in definition.outputs], got)))
            if trip is not None:
                return _hack(trip)
        if len(got) != len(definition.outputs):
            return failure(Status.INCORRECT_SHAPE,
                           f"the kernel returned {len(got)} outputs; {definition.name} has {len(definition.outputs)}")
        where = f"round {round_index + 1} (seed {seed})"
        wrong = inplace.verdict(definition, workload, request.reduction_len, kernel_args, args, updated, where, worst)
        wrong = wrong or _compare(definition, workload, request, got, expected, where, worst)
        if wrong is not None:
            return wrong
        del args, kernel_args, expected, got
    correctness = _summarize_errors(worst) if request.rounds else None
    touched = _touched(problem, workload, axis_values, reference, request) if request.count_touched else None

    if not request.time_kernel:
        return ItemOutcome(Status.PASSED, correctness=correctness, destination_passing=dps, flops_by_dtype=counted,
                           touched_bytes=touched)  # fmt: skip
    from pytest_solbench.worker.bench import time_entry

    try:
        with armed():
            timing, trip = time_entry(fn, dps, problem, workload, axis_values, request, reference, updated)
        trip = trip or (wires.check() if wires is not None else None)
    except Exception as exc:
        return failure(Status.RUNTIME_ERROR, f"while timing: {_short_traceback(exc)}", correctness=correctness)
    if trip is not None and wires is not None:
        return _hack(trip, correctness=correctness, kernel_timing=timing)
    return ItemOutcome(Status.PASSED, correctness=correctness, kernel_timing=timing, destination_passing=dps,
                       flops_by_dtype=counted, touched_bytes=touched)  # fmt: skip


def _load(request: ItemRequest, definition: Definition) -> tuple[Any, Any, bool, Any] | ItemOutcome:
    """The reference, the kernel's entry function, whether it is destination-passing, and its tripwires."""
    try:
        reference = _reference(definition)
    except Exception as exc:
        return failure(Status.INVALID_REFERENCE, f"the reference does not load: {_short_traceback(exc)}")
    try:
        fn, dps, wires = _kernel(kernels.KernelSpec.from_payload(request.kernel), definition, request.guard)
        if request.compile_kernel:
            fn = _compiled(fn)
    except kernels.KernelError as exc:
        return failure(exc.status, str(exc))
    except Exception as exc:
        return failure(Status.COMPILE_ERROR, _short_traceback(exc))
    return reference, fn, dps, wires


def _expected(reference: Any, args: list, definition: Definition, device: str) -> tuple[list, dict] | ItemOutcome:
    """The reference's outputs on clones of ``args``, and the inputs it updates in place with what it writes there
    (``worker.inplace``; ``args`` is untouched)."""
    import torch

    from pytest_solbench.data import inputs
    from pytest_solbench.worker import inplace

    try:
        reference_args = inputs.clone_inputs(args)
        with torch.no_grad():
            expected = as_outputs(reference(*reference_args), definition)
        _sync(device)
    except Exception as exc:
        return failure(Status.INVALID_REFERENCE, f"the reference raised: {_short_traceback(exc)}")
    if len(expected) != len(definition.outputs):
        return failure(
            Status.INVALID_REFERENCE,
            f"the reference returned {len(expected)} outputs; the definition declares {len(definition.outputs)}",
        )
    return expected, inplace.find(reference, args, reference_args, inputs.changed(args, reference_args))


def _compare(definition: Definition, workload: Workload, request: ItemRequest, got: list, expected: list,
             where: str, worst: dict[str, dict[str, float]]) -> ItemOutcome | None:  # fmt: skip
    """Each output against the reference's under its tolerance; the worst errors so far kept in ``worst``."""
    from pytest_solbench.worker import check

    for out_spec, value, ref in zip(definition.outputs, got, expected):
        tol = check.tolerance_for(out_spec.dtype, workload.tolerance, reduction_len=request.reduction_len)
        fault = check.reference_fault(out_spec.name, ref, tol)
        if fault:
            return failure(Status.INVALID_REFERENCE, f"{where}: {fault}")
        try:
            stats, mismatch = check.check_output(out_spec.name, value, ref, tol, expected_dtype=out_spec.dtype)
        except TypeError as exc:  # the reference's output is neither a tensor nor a number
            return failure(Status.INVALID_REFERENCE, str(exc))
        if mismatch is not None:
            return failure(mismatch.status, f"{where}: {mismatch.message()}",
                           correctness=stats.to_dict() if stats is not None else None)  # fmt: skip
        previous = worst.get(out_spec.name)
        if previous is None or stats.max_abs_error > previous["max_absolute_error"]:
            worst[out_spec.name] = stats.to_dict()
    return None


def _hack(trip: Any, **fields: Any) -> ItemOutcome:
    return failure(Status.REWARD_HACK, f"[{trip.rule}] {trip.message}", rule=trip.rule, **fields)


def _count_flops(reference: Any, args: list) -> dict[str, float] | None:
    """The reference's tensor-core FLOPs on real inputs (the controller could not count them on meta tensors)."""
    from pytest_solbench.data import inputs
    from pytest_solbench.sol.flops import count_flops

    try:
        return count_flops(reference, inputs.clone_inputs(args))
    except Exception:  # the bound stays unknown; the item is judged on correctness and time alone
        return None


def _touched(problem: Problem, workload: Workload, axis_values: dict[str, int], reference: Any,
             request: ItemRequest, seed: int | None = None) -> dict[str, float] | None:  # fmt: skip
    """The bytes of each input the reference reaches on the inputs the timed calls see (``seed``: theirs; by default
    the same as ``bench``'s): the bound a time is scored against follows the routing that time was taken on."""
    from pytest_solbench.sol.touched import input_bytes, touched_bytes

    try:
        seed = round_seed(request.seed, workload.uuid, TIMED_ROUND) if seed is None else seed
        args = make_problem_inputs(problem, workload, axis_values, seed, request.device, request.blob_root)
        return input_bytes(problem.definition, touched_bytes(reference, args))
    except Exception:  # the bytes stay provisional; the item is judged on correctness and time alone
        return None


def _summarize_errors(per_output: dict[str, dict[str, float]]) -> dict[str, Any]:
    if not per_output:
        return {"max_absolute_error": 0.0, "max_relative_error": 0.0, "extra": {}}
    return {
        "max_absolute_error": max(s["max_absolute_error"] for s in per_output.values()),
        "max_relative_error": max(s["max_relative_error"] for s in per_output.values()),
        "extra": {"outputs": per_output},
    }


def warm_up(device: str = "cpu") -> None:
    """A new worker's first call, made while it waits for work: the imports (and the CUDA context) every item needs,
    and what the integrity snapshot imports, so none of it counts against the first item's timeout."""
    import torch

    from pytest_solbench.worker import check  # noqa: F401 - imported now, while the worker waits
    from pytest_solbench.data import inputs
    from pytest_solbench.guard import integrity
    from pytest_solbench.measure import timing

    integrity.Snapshot.take()
    # ATen's CPU thread pool starts on the first op large enough to split (a kernel's larger workload, or the
    # harness copying its results): start it now, so the thread tripwire counts only the kernel's own threads.
    (torch.ones(1 << 20) * 2).sum()
    # The profiler that records each checked call's operators starts a thread of its own the first time:
    # start it now, so the thread tripwire does not count it as the kernel's (``guard.dispatched``).
    from pytest_solbench.guard import dispatched

    with dispatched.recorded():
        torch.ones(1).add_(1)
    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.init()
        x = torch.empty(1024, device="cuda")
        # CUPTI's first session starts threads that outlive it: start them now, before any kernel's threads count.
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]):
            x.add_(1)
            torch.cuda.synchronize()


def warm_up_cuda() -> None:
    warm_up("cuda")


#: ``sys.pycache_prefix`` in a kernel's process after its warm-up: below a device file, so no folder can be made there
#: and no ``.pyc`` read from there, whoever asks (reads and writes of bytecode fail quietly; sources are compiled).
NO_BYTECODE = os.path.join(os.devnull, "no-bytecode")


def confined_warm_up(device: str = "cpu") -> None:
    """A kernel's process's first call: confine it (``guard.confine.for_kernel``) before any thread starts, since
    namespaces and capabilities are per thread and native kernel code can run on ATen's pool or CUDA's threads;
    then warm up, which starts those threads inside the confinement. The reference's process is not confined.

    The warm-up's imports (torch, numpy, the plugin: installed code, none of the kernel's) read their own bytecode:
    compiled afresh into the private ``sys.pycache_prefix`` they cost about a second of CPU per process. After it the
    prefix is ``NO_BYTECODE``, where no user can write and nothing is found: the private temp is the kernel user's,
    and a ``.pyc`` it wrote there at run time was read in place of a source the rules read (red-team round 18, u01).
    The kernel's own modules never read bytecode (``data.importing``); this keeps it from installed modules imported
    lazily after the kernel too (torch's submodules, the plugin's)."""
    import sys

    from pytest_solbench.guard import confine

    confine.for_kernel(cuda=device.startswith("cuda"))
    sys.pycache_prefix = None
    try:
        warm_up(device)
    finally:
        sys.pycache_prefix = NO_BYTECODE


def confined_warm_up_cuda() -> None:
    confined_warm_up("cuda")


def health_check(_payload: Any = None) -> bool:
    """Run after an error: is this worker's CUDA context still usable? (A pool's ``call`` passes its payload.)"""
    import torch

    if not (torch.cuda.is_available() and torch.cuda.is_initialized()):
        return True
    try:
        x = torch.ones(16, device="cuda")
        torch.cuda.synchronize()
        return bool((x * 2).sum().item() == 32)
    except Exception:  # a sticky CUDA error: every call in this process fails from now on
        return False

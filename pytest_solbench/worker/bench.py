"""Timing one entry function on one workload in the kernel's own process (``--solbench-isolate none``; the judge's
timed phase is ``judge.timed``): the timing contract, then the checks on what the timed calls did (their outputs
rechecked against the reference; under CUPTI, the kernels each call launched)."""

from __future__ import annotations

import functools
from typing import Any, Collection

from pytest_solbench.protocol import ItemRequest
from pytest_solbench.data.trace import Problem, Workload
from pytest_solbench.guard.tripwires import Trip


def time_entry(fn: Any, dps: bool, problem: Problem, workload: Workload, axis_values: dict[str, int],
               request: ItemRequest, reference: Any, updated: Collection[int] = ()) -> tuple[dict, Trip | None]:
    """Time ``fn`` under the timing contract (rotated input copies, re-poisoned outputs, cold L2 per sample); return
    the measurement and the first check the timed calls failed (None: none). The inputs at positions ``updated``
    (the reference updates them in place: a KV cache) are put back as made before every call on a copy but its
    first, outside the timed window, as the judge's harness does: no call finds its slots already written."""
    import torch

    from pytest_solbench.data import inputs
    from pytest_solbench.measure import timing
    from pytest_solbench.worker.rounds import TIMED_ROUND, make_problem_inputs, round_seed

    device = request.device
    definition = problem.definition
    seed = round_seed(request.seed, workload.uuid, TIMED_ROUND)
    first = make_problem_inputs(problem, workload, axis_values, seed, device, request.blob_root)
    tensor_bytes = sum(a.numel() * a.element_size() for a in first if isinstance(a, torch.Tensor))
    # Several copies so consecutive calls see fresh addresses; bounded so large workloads fit in memory.
    copies = max(2, min(8, int(request.timing.rotation_bytes // max(tensor_bytes, 1))))
    arg_sets = [first] + [inputs.clone_inputs(first) for _ in range(copies - 1)]
    out_sets = [inputs.allocate_outputs(definition, axis_values, device) for _ in range(copies)] if dps else None
    last: list[Any] = [None, None]  # the index and the outputs of the latest call
    as_made = {p: first[p].clone() for p in updated}

    def prepare(i: int) -> None:
        if i >= copies:
            for p, made in as_made.items():
                arg_sets[i % copies][p].copy_(made)
        if out_sets is not None:
            for out in out_sets[i % copies]:
                inputs.poison_(out)  # as checked calls' outputs are

    def call(i: int) -> None:
        if out_sets is not None:
            fn(*arg_sets[i % copies], *out_sets[i % copies])
            last[0] = i
        else:
            last[0], last[1] = i, fn(*arg_sets[i % copies])

    nbytes = request.timing.l2_flush_bytes
    config = timing.TimingConfig(max_time_s=request.timing.max_time_s, timer=request.timing.timer, cold_l2=nbytes != 0)
    flusher = None
    if device.startswith("cuda") and nbytes != 0:
        flusher = timing.L2Flusher.for_device(device) if nbytes is None else _flusher(device, nbytes)
    probe = None
    if device.startswith("cuda"):
        from pytest_solbench.measure import clocks

        observer = clocks.ClockObserver(clocks.nvml_index_for_cuda_device(torch.cuda.current_device()))
        probe = observer.snapshot if observer.available else None
    with torch.no_grad():
        measurement = timing.measure(call, prepare=prepare, device=device, config=config, l2_flush=flusher,
                                     clock_probe=probe)  # fmt: skip
        last_args = arg_sets[last[0] % copies]
        before = [as_made.get(p, a) for p, a in enumerate(last_args)]
        trip = _kernel_sets(measurement) or _recheck(problem, workload, reference, before, last_args,
                                                     out_sets[last[0] % copies] if out_sets else last[1], request)
    return measurement.to_dict(), trip


def _kernel_sets(measurement: Any) -> Trip | None:
    """Under CUPTI: every timed call launched GPU work, and the same kernels each time."""
    if measurement.method != "cupti":
        return None
    if measurement.calls_without_kernels:
        return Trip("no-kernel", f"{measurement.calls_without_kernels} timed call(s) launched no GPU work: a result "
                    "served from a cache, or work done before the timer started")  # fmt: skip
    if measurement.distinct_kernel_sets > 1:
        return Trip("kernel-set-changed", f"the timed calls launched {measurement.distinct_kernel_sets} different "
                    f"sets of kernels ({', '.join(measurement.kernel_names[:6])}): work skipped on some calls")  # fmt: skip
    return None


def _recheck(problem: Problem, workload: Workload, reference: Any, before: list, after: list, produced: Any,
             request: ItemRequest) -> Trip | None:  # fmt: skip
    """The last timed call against the reference on the same inputs (``before``: as that call found them; ``after``:
    as it left them): its outputs, and the inputs the reference updates in place: a kernel right only while it is
    being checked fails here."""
    from pytest_solbench.data import inputs
    from pytest_solbench.worker import check, inplace
    from pytest_solbench.worker.rounds import as_outputs

    definition = problem.definition
    reference_args = inputs.clone_inputs(before)
    expected = as_outputs(reference(*reference_args), definition)
    written = inplace.find(reference, before, reference_args, inputs.changed(before, reference_args))
    wrong = inplace.verdict(definition, workload, request.reduction_len, after, before, written,
                            "the last timed call", {})  # fmt: skip
    if wrong is not None:
        return Trip(wrong.rule or "timed-output", wrong.log)
    got = as_outputs(produced, definition)
    for spec, value, ref in zip(definition.outputs, got, expected):
        tol = check.tolerance_for(spec.dtype, workload.tolerance, reduction_len=request.reduction_len)
        try:
            _stats, mismatch = check.check_output(spec.name, value, ref, tol, expected_dtype=spec.dtype)
        except TypeError as exc:
            return Trip("timed-output", f"the last timed call's output {spec.name!r} is not a tensor: {exc}")
        if mismatch is not None:
            return Trip("timed-output", f"the last timed call's outputs are wrong, though the checked calls were "
                        f"right: {mismatch.message().splitlines()[0]}")  # fmt: skip
    return None


@functools.lru_cache(maxsize=4)
def _flusher(device: str, nbytes: int) -> Any:
    from pytest_solbench.measure import timing

    return timing.L2Flusher(device, nbytes)

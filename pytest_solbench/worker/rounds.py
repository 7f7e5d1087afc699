"""A round's data in a worker: its seed, its inputs (through the definition's custom factory when it names one),
and outputs as a list in the definition's order. Shared by the correctness rounds (``execute``), the timed calls
(``bench``), profiling and FLOP counting on real inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_solbench.data.kernels import reference_namespace
from pytest_solbench.data.trace import Definition, Problem, Workload


TIMED_ROUND = 10_000  # the round index whose seed makes the timed inputs (bench) and the bytes they reach (execute)


def round_seed(seed: int, uuid: str, round_index: int) -> int:
    """The seed of one correctness round: differs per workload and round, reproducible from the run's seed."""
    import zlib

    return (seed * 1_000_003 + zlib.crc32(uuid.encode()) + round_index * 7919) % (2**31)


def _custom_factory(definition: Definition) -> Any:
    name = definition.custom_inputs_entrypoint
    if not name:
        return None
    namespace = reference_namespace(definition)
    if name not in namespace:
        raise KeyError(f"custom_inputs_entrypoint {name!r} is not defined in the reference")
    return namespace[name]


def make_problem_inputs(
    problem: Problem, workload: Workload, axis_values: dict[str, int], seed: int, device: str, blob_root: str | None = None
) -> list:
    """A workload's inputs, through its custom factory when the definition names one."""
    from pytest_solbench.data import inputs

    return inputs.make_inputs(
        problem.definition,
        workload,
        axis_values,
        seed=seed,
        device=device,
        root=Path(blob_root) if blob_root else problem.blob_root,
        custom=_custom_factory(problem.definition),
    )


def as_outputs(value: Any, definition: Definition) -> list[Any]:
    """A reference's or value-returning kernel's result as a list in output order."""
    if isinstance(value, dict):
        return [value.get(spec.name) for spec in definition.outputs]
    if isinstance(value, (tuple, list)):
        return list(value)
    if value is None and not definition.outputs:  # it only updates inputs in place (worker.inplace)
        return []
    return [value]

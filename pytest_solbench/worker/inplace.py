"""The in-place contract: an input the reference updates (a KV cache it appends to) is held to what it writes.

Engines update caches in place: vLLM's ``reshape_and_cache_flash`` and FlashInfer's ``append_paged_kv_cache`` write
the new keys and values into pages of a cache they are given and return nothing. A definition says so by its
reference doing the same (``cache.view(-1, ...)[slots] = key``; no outputs, or a few besides); nothing else is
declared. The judge finds, on clones, which inputs the reference changes (``find``) and which of their elements it
writes: those that differ after it ran on the inputs as made, or after a second run on a bitwise complement of
those inputs, so an element written with the value it already held still counts as written. A kernel must then
(``check``):

- leave every element of such an input that the reference does not write byte for byte as it was: writing outside
  its slots is ``REWARD_HACK [input-mutation]``, the rule that holds every other input byte for byte as made
  (``guard.tripwires.mutated``; only the inputs the reference itself changes are exempt from it, and only here);
- write the elements the reference writes within the tolerance of the input's dtype, as an output is held
  (``worker.check``: an e4m3 cache quantized on append may differ by a rounding step, as an e4m3 output may).

The written elements are compared in the order they lie in the input, so the rule against skipped runs of a row
applies to them too. Every call the judge checks starts from the input as made, so each is held to one run of the
reference and updates need not be idempotent (an accumulation passes as an append does): correctness rounds and
the outside clock's batch call each set once, CPU mode's short batch gives each call a copy of its own of these
inputs, and the timed phase puts them back as made before every call on a set but its first (``judge.timed``).
A call that found its slots already written could skip them and look fast (red-team round 6).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from pytest_solbench.guard.tripwires import Trip
from pytest_solbench.protocol import ItemOutcome, Status, failure


@dataclass(frozen=True)
class Written:
    """One input the reference updates in place: as it left it, and which elements it writes."""

    expected: Any  # torch.Tensor: the input after the reference ran on a clone of it
    mask: Any  # bool torch.Tensor of the input's shape: True where the reference writes


def differs(a: Any, b: Any) -> Any:
    """Per element of ``a`` (a bool tensor of its shape): whether any of its bytes differs from ``b``'s."""
    import torch

    size = a.element_size()
    raw_a = a.detach().contiguous().reshape(-1).view(torch.uint8).reshape(-1, size)
    raw_b = b.detach().contiguous().reshape(-1).view(torch.uint8).reshape(-1, size).to(a.device)
    return (raw_a != raw_b).any(dim=1).reshape(a.shape)


def complement(t: Any) -> Any:
    """``t`` with every byte inverted: each element differs from the original in every byte."""
    import torch

    return torch.bitwise_not(t.detach().contiguous().reshape(-1).view(torch.uint8)).view(t.dtype).reshape(t.shape)


def find(reference: Callable, args: list, after: list, changed: set[int]) -> dict[int, Written]:
    """The inputs the reference changed (``changed``: positions where ``after``, its arguments once it ran, differ
    from ``args``), each with the elements it writes. ``args`` is left as it was."""
    if not changed:
        return {}
    import torch

    from pytest_solbench.data import inputs

    masks = {i: differs(after[i], args[i]) for i in changed}
    flipped = [complement(a) if i in changed else a for i, a in enumerate(inputs.clone_inputs(args))]
    inverted = {i: flipped[i].clone() for i in changed}
    try:
        with torch.no_grad():
            reference(*flipped)
    except Exception:  # values the reference cannot take (an index read from the cache): what changed is all we know
        pass
    else:
        masks = {i: masks[i] | differs(flipped[i], inverted[i]) for i in changed}
    return {i: Written(after[i], masks[i]) for i in changed}


def check(name: str, got: Any, before: Any, written: Written, tolerance: Any, dtype: str) -> tuple[Any, Any]:
    """``(stats, fault)`` for one input the reference updates: the kernel's ``got`` against the input as made
    (``before``) and as the reference left it. ``fault`` is a ``Trip`` (writes where the reference writes nothing),
    a ``worker.check.Mismatch`` (written elements wrong) or None; ``stats`` the written elements' errors."""
    import torch

    from pytest_solbench.worker import check as contract

    if type(got) is not torch.Tensor or got.shape != before.shape or got.dtype != before.dtype:
        return None, Trip("input-mutation", f"the kernel replaced its input {name!r}")
    outside = differs(got, before) & ~written.mask.to(got.device)
    count = int(outside.sum())
    if count:
        first = tuple(int(i) for i in torch.nonzero(outside)[0])
        return None, Trip("input-mutation", f"the kernel changed {count:,} element(s) of its input {name!r} that "
                          f"the reference leaves alone (the first at {first}): it may write only where the reference "
                          "writes")  # fmt: skip
    mask = written.mask.to(got.device)
    expected = written.expected.to(got.device)[mask]
    stats, mismatch = contract.check_output(name, got[mask], expected, tolerance, expected_dtype=dtype)
    if mismatch is None or not mismatch.total:
        return stats, mismatch
    places = torch.nonzero(mask).cpu()  # the written elements in order: their indices in the input

    def place(index: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(int(i) for i in places[index[0]]) if index else index

    samples = tuple((place(i), g, e) for i, g, e in mismatch.samples)
    return stats, replace(mismatch, max_abs_index=place(mismatch.max_abs_index),
                          max_rel_index=place(mismatch.max_rel_index), samples=samples)  # fmt: skip


def verdict(definition: Any, workload: Any, reduction_len: int | None, got: list, before: list,
            updated: dict[int, Written], where: str, worst: dict[str, dict[str, float]]) -> ItemOutcome | None:
    """Every updated input of one call checked (``check``): the first fault as the item's outcome, else None; the
    worst errors so far kept in ``worst`` under the input's name."""
    from pytest_solbench.worker import check as contract

    for i, written in sorted(updated.items()):
        spec = definition.inputs[i]
        tolerance = contract.tolerance_for(spec.dtype, workload.tolerance, reduction_len=reduction_len)
        stats, fault = check(spec.name, got[i], before[i], written, tolerance, spec.dtype)
        if isinstance(fault, Trip):
            return failure(Status.REWARD_HACK, f"[{fault.rule}] {where}: {fault.message}", rule=fault.rule)
        if fault is not None:
            text = fault.message().removeprefix(f"output {spec.name!r}: ")
            return failure(fault.status, f"{where}: input {spec.name!r}, updated in place: {text}",
                           correctness=stats.to_dict() if stats is not None else None)  # fmt: skip
        previous = worst.get(spec.name)
        if stats is not None and (previous is None or stats.max_abs_error > previous["max_absolute_error"]):
            worst[spec.name] = stats.to_dict()
    return None

"""Torch's stacks of Python modes in the kernel's process: a mode the kernel leaves on them runs its code inside
every torch call the harness makes after it (mapping the judge's tensors, poisoning outputs, the L2 flush,
copying results), outside the operator record and before it opens: a mode entered at import computed the call's
RMSNorm there from the inputs it saw mapped, and the call only copied it (red-team round 44, bw01, bw02); it also
tells a timed call from a checked one by the harness's own calls between them (bw05). So the stacks must be as the
harness left them whenever a kernel's code returns (its import, each call), and a mode left on is taken off at once
(by torch's own pop, which runs no code of the mode's) and is ``patching``. Torch's ``DeviceContext``, which
``torch.set_default_device`` leaves on, is the one mode a kernel may leave (it runs no code of the kernel's), as torch
made it: a handler set on the instance made it the kernel's (round 51, cr06), and its class is held by the snapshot.

The stacks are read by torch's C functions, captured by ``hold`` before any kernel is imported."""

from __future__ import annotations

from typing import Any

_C: dict[str, Any] = {}  # torch's C functions for the stacks, and DeviceContext; filled by ``hold``


def hold() -> None:
    """Capture torch's functions for the stacks, before the kernel's import (idempotent)."""
    if _C:
        return
    import torch
    from torch.utils._device import DeviceContext

    _C.update(function_len=torch._C._len_torch_function_stack, function_at=torch._C._get_function_stack_at,
              function_pop=torch._C._pop_torch_function_stack, dispatch_len=torch._C._len_torch_dispatch_stack,
              dispatch_pop=torch._C._pop_torch_dispatch_stack, device_context=DeviceContext,
              device=torch.device, instance_dict=object.__getattribute__)  # fmt: skip


#: What torch's own DeviceContext holds on itself; anything else there (a ``__torch_function__`` of the kernel's set
#: on the instance, which torch reads before the class's) makes it the kernel's mode (red-team round 51, cr06)
_DEVICE_CONTEXT_KEYS = frozenset(("device", "prev_mode", "old_device"))


def _torchs_own(mode: Any) -> bool:
    """Whether ``mode`` is torch's DeviceContext as ``torch.set_default_device`` leaves it, read without running any
    code of the mode's: its exact class, torch's keys only, a real device."""
    if type(mode) is not _C["device_context"]:
        return False
    held = _C["instance_dict"](mode, "__dict__")
    return held.keys() <= _DEVICE_CONTEXT_KEYS and type(held.get("device")) is _C["device"] and (
        held.get("prev_mode") is None or type(held.get("prev_mode")) is _C["device_context"])  # fmt: skip


def depth() -> tuple[int, int]:
    """(torch function modes, dispatch modes) on the stacks now."""
    return _C["function_len"](), _C["dispatch_len"]()


def left() -> str | None:
    """What the kernel's code left on the stacks (taken off now), in words; None where they are empty but for
    torch's DeviceContext. The harness itself never leaves a mode on them."""
    if not _C:
        return None  # the guard is off in this process: nothing was held
    functions, dispatches = depth()
    kept = sum(_torchs_own(_C["function_at"](i)) for i in range(functions))
    if functions == kept and not dispatches:
        return None
    what = [f"{n} {kind} mode(s)" for n, kind in ((functions - kept, "torch function"), (dispatches, "dispatch")) if n]
    while _C["dispatch_len"]():
        _C["dispatch_pop"](None)  # the top mode, of any key
    while _C["function_len"]():  # a DeviceContext goes too: nothing is kept once a mode of the kernel's was found
        _C["function_pop"]()
    return (f"the kernel's code left {' and '.join(what)} on torch's stack: its code would run in the harness's own "
            "torch calls, outside the operator record (taken off; a mode is entered and left inside one call)")


def tripped() -> Any:
    """``left`` as the tripwires' finding: ``patching``, or None."""
    why = left()
    if why is None:
        return None
    from pytest_solbench.guard.tripwires import Trip

    return Trip("patching", why)

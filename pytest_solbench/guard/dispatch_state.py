"""torch's dispatcher state the kernel's process must find as the harness left it whenever the kernel's code returns.

Two ways put kernel code in the dispatch of the harness's own torch calls (mapping the judge's tensors with
``view(dtype)``, poisoning outputs with ``fill_``) before a call's record opens, with no mode on torch's stacks
(red-team round 52, cu01 to cu07): the Python dispatcher switched on for the thread, which runs ``py_impl`` kernels a
kernel registered on aten ops (``thread_keys``: the thread's included and excluded dispatch keys, read and put back by
torch's C functions, on every return); and a kernel registered on an aten op for a dispatch key through
``torch.library.Library("aten", "IMPL")`` (``registrations``: the aten ops each key has a kernel for, as before the
kernel's import; 6.5 ms a read on this CPU, so read after the import and each checked call, not each timed call)."""

from __future__ import annotations

from typing import Any

_HELD: dict[str, Any] = {}
#: Dispatch keys whose aten registrations are held (Meta and the like compute nothing the harness relies on)
KEYS = ("CPU", "CUDA", "AutogradCPU", "AutogradCUDA", "Autograd", "AutogradOther", "CompositeImplicitAutograd",
        "CompositeExplicitAutograd", "CompositeExplicitAutogradNonFunctional", "BackendSelect", "ADInplaceOrView",
        "Python", "PreDispatch", "Functionalize", "AutocastCPU", "AutocastCUDA", "Conjugate", "Negative",
        "ZeroTensor", "FuncTorchDynamicLayerFrontMode", "FuncTorchDynamicLayerBackMode")  # fmt: skip


def hold() -> None:
    """The thread's dispatch keys and the aten registrations, before the kernel's import (idempotent)."""
    if _HELD:
        return
    import torch

    C = torch._C
    _HELD.update(include=C._dispatch_tls_local_include_set, exclude=C._dispatch_tls_local_exclude_set,
                 set_included=C._dispatch_tls_set_dispatch_key_included,
                 set_excluded=C._dispatch_tls_set_dispatch_key_excluded, key=C.DispatchKey,
                 registered=C._dispatch_get_registrations_for_dispatch_key)  # fmt: skip
    _HELD.update(included=_HELD["include"](), excluded=_HELD["exclude"](), registrations=_registrations())


def _registrations() -> dict[str, frozenset[str]]:
    found = {}
    for key in KEYS:
        try:
            found[key] = frozenset(n for n in _HELD["registered"](key) if n.startswith("aten::"))
        except (RuntimeError, ValueError, TypeError):  # a key this torch does not know
            continue
    return found


def thread_keys() -> Any:
    """``patching`` where the thread's included or excluded dispatch keys changed (put back), or None."""
    if not _HELD:
        return None
    included, excluded = _HELD["include"](), _HELD["exclude"]()
    if included == _HELD["included"] and excluded == _HELD["excluded"]:
        return None
    changed = [str(k) for k in _keys(included) ^ _keys(_HELD["included"])] + [
        str(k) for k in _keys(excluded) ^ _keys(_HELD["excluded"])]  # fmt: skip
    for key in _keys(included) - _keys(_HELD["included"]):
        _HELD["set_included"](key, False)
    for key in _keys(_HELD["included"]) - _keys(included):
        _HELD["set_included"](key, True)
    for key in _keys(excluded) - _keys(_HELD["excluded"]):
        _HELD["set_excluded"](key, False)
    for key in _keys(_HELD["excluded"]) - _keys(excluded):
        _HELD["set_excluded"](key, True)
    from pytest_solbench.guard.tripwires import Trip

    return Trip("patching", f"the kernel's code changed the thread's dispatch keys ({', '.join(changed[:4])}): torch "
                            "would run kernels of its own in the harness's torch calls, outside the operator record "
                            "(put back)")  # fmt: skip


def _keys(keyset: Any) -> set[Any]:
    """The keys of a DispatchKeySet, by testing each key torch names (read by C, no code of anyone's)."""
    return {k for k in _HELD["key"].__members__.values() if _has(keyset, k)}


def _has(keyset: Any, key: Any) -> bool:
    try:
        return bool(keyset.has(key))
    except (RuntimeError, ValueError, TypeError):  # an alias key no set holds
        return False


def registrations() -> Any:
    """``patching`` where an aten op got a kernel for a held dispatch key since the kernel's import, or None."""
    if not _HELD:
        return None
    now = _registrations()
    added = sorted(f"{op} ({key})" for key, ops in now.items() for op in ops - _HELD["registrations"].get(key, ops))
    if not added:
        return None
    from pytest_solbench.guard.tripwires import Trip

    return Trip("patching", f"the kernel registered kernels of its own on torch's operators: {', '.join(added[:4])}: "
                            "they run in the harness's own torch calls, outside the operator record")

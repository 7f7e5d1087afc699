"""torch's dispatcher state the kernel's process must find as the harness left it whenever the kernel's code returns.

Two ways put kernel code in the dispatch of the harness's own torch calls (mapping the judge's tensors with
``view(dtype)``, poisoning outputs with ``fill_``) before a call's record opens, with no mode on torch's stacks
(red-team round 52, cu01 to cu07): the Python dispatcher switched on for the thread, which runs ``py_impl`` kernels a
kernel registered on aten ops (``thread_keys``: the thread's included and excluded dispatch keys, read and put back by
torch's C functions, on every return); and a kernel registered on an aten op for a dispatch key through
``torch.library.Library("aten", "IMPL")`` (``registrations``: the aten ops each key has a kernel for, as before the
kernel's import; 6.5 ms a read on this CPU, so read after the import and each checked call, not each timed call).

A kernel registered over one torch already has for the key adds no name (red-team round 53: a kernel over
``aten::fill_.Scalar`` for CPU ran in the harness's poisoning of a timed call's outputs, outside the record and the
timed window). ``overridden`` reads the dispatch table of each operator the harness itself calls around the kernel's
calls (``HARNESS_OPS``: 32 overloads, 3 ms a read on this CPU) against the table before the import: at the start of
every request, after the import and each checked call, right after a timed batch's last call, and, for the operators
run between two timed calls (``BETWEEN_CALLS``), after one timed call in eight picked at random."""

from __future__ import annotations

import secrets
from typing import Any

_HELD: dict[str, Any] = {}
#: Dispatch keys whose aten registrations are held (Meta and the like compute nothing the harness relies on)
KEYS = ("CPU", "CUDA", "AutogradCPU", "AutogradCUDA", "Autograd", "AutogradOther", "CompositeImplicitAutograd",
        "CompositeExplicitAutograd", "CompositeExplicitAutogradNonFunctional", "BackendSelect", "ADInplaceOrView",
        "Python", "PreDispatch", "Functionalize", "AutocastCPU", "AutocastCUDA", "Conjugate", "Negative",
        "ZeroTensor", "FuncTorchDynamicLayerFrontMode", "FuncTorchDynamicLayerBackMode")  # fmt: skip
#: The aten operators (every overload) the harness's own code calls around the kernel's calls, outside a record or
#: the timed window: mapping the judge's tensors (``worker.shm``), poisoning, restoring and delivering outputs, the L2
#: flush's read. tests/test_dispatch_state.py finds them by running the harness under the profiler.
HARNESS_OPS = frozenset({"aten::view", "aten::reshape", "aten::_reshape_alias", "aten::_unsafe_view", "aten::set_",
                         "aten::empty", "aten::fill_", "aten::copy_", "aten::zero_", "aten::clone", "aten::sum",
                         "aten::slice", "aten::as_strided", "aten::alias", "aten::detach", "aten::lift_fresh",
                         "aten::select", "aten::expand",
                         "aten::zeros"})  # the L2 flusher's buffer, made in a timed request  # fmt: skip
#: The dispatch keys of an operator's table that the harness's calls on plain CPU and CUDA tensors can reach (the
#: others, Meta, sparse, quantized, nested, other devices, torch may register lazily, and the harness never runs)
TABLE_KEYS = frozenset(("CPU", "CUDA", "AutogradCPU", "AutogradCUDA", "ADInplaceOrView", "BackendSelect", "Python",
                        "PythonTLSSnapshot", "PreDispatch", "Functionalize", "AutocastCPU", "AutocastCUDA",
                        "Conjugate", "Negative", "ZeroTensor"))  # fmt: skip
#: Of those, the ones the harness runs between two timed calls (``harness.timed``'s ``prepare`` and the flush)
BETWEEN_CALLS = ("aten::fill_.Scalar", "aten::copy_", "aten::sum", "aten::view.dtype")
#: One timed call in this many, picked at random, is followed by a read of ``BETWEEN_CALLS``' tables
BETWEEN_CALLS_ONE_IN = 8


def hold() -> None:
    """The thread's dispatch keys and the aten registrations, before the kernel's import (idempotent)."""
    if _HELD:
        return
    import torch

    C = torch._C
    _HELD.update(include=C._dispatch_tls_local_include_set, exclude=C._dispatch_tls_local_exclude_set,
                 set_included=C._dispatch_tls_set_dispatch_key_included,
                 set_excluded=C._dispatch_tls_set_dispatch_key_excluded, key=C.DispatchKey,
                 registered=C._dispatch_get_registrations_for_dispatch_key, table=C._dispatch_dump_table,
                 below=secrets.randbelow)  # fmt: skip
    ops = [n for n in C._dispatch_get_all_op_names() if n.split(".")[0] in HARNESS_OPS]
    _HELD.update(included=_HELD["include"](), excluded=_HELD["exclude"](), registrations=_registrations(),
                 tables=_tables(ops))  # fmt: skip


def _tables(ops: Any) -> dict[str, str]:
    """Each operator's dispatch table: for each of ``TABLE_KEYS``, where the kernel it runs was registered."""
    return {op: _table(op) for op in ops}


def _table(op: str) -> tuple[str, ...]:
    return tuple(line for line in _HELD["table"](op).splitlines() if line.partition(":")[0] in TABLE_KEYS)


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
        return overridden()
    from pytest_solbench.guard.tripwires import Trip

    return Trip("patching", f"the kernel registered kernels of its own on torch's operators: {', '.join(added[:4])}: "
                            "they run in the harness's own torch calls, outside the operator record")


def overridden(between_calls: bool | None = False) -> Any:
    """``patching`` where an operator the harness calls runs another kernel than before the kernel's import (one
    registered over torch's, or for another key), or None. ``between_calls``: only ``BETWEEN_CALLS``, and only after
    one call in ``BETWEEN_CALLS_ONE_IN`` (the kernel cannot tell which); None: ``BETWEEN_CALLS`` always."""
    if not _HELD:
        return None
    if between_calls and _HELD["below"](BETWEEN_CALLS_ONE_IN):
        return None
    held = _HELD["tables"]
    ops = held if between_calls is False else [op for op in BETWEEN_CALLS if op in held]
    changed = [op for op in ops if _table(op) != held[op]]
    if not changed:
        return None
    from pytest_solbench.guard.tripwires import Trip

    return Trip("patching", f"the kernel registered kernels of its own over torch's for {', '.join(changed[:4])}: "
                            "they run in the harness's own torch calls around the kernel's calls, outside the operator "
                            "record and the timed window")  # fmt: skip

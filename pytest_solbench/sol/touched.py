"""Bytes a reference must read from each input, found by running it: which bytes of each input feed its outputs.

A grouped expert GEMM reads only the experts some row is routed to; a paged decode only the pages its block table
names; an embedding only the looked-up rows. ``touched_bytes(fn, args)`` runs ``fn`` under a dispatch mode that
records, for every op, which bytes of which input it reads, then keeps only the ops whose results reach what ``fn``
returns (or writes into its arguments), and counts the input bytes those read. The rules:

- a view (slice, select, transpose, reshape) moves nothing; the op that consumes it reads the bytes the view spans;
- gathers (``index``, ``index_select``, ``embedding``, ``gather``) read only the elements their indices name;
- a tensor with no elements carries no data: an op whose outputs are all empty (a GEMM over an expert no row is
  routed to) reads nothing, and an empty operand is no read;
- dead work (results nothing returned depends on) reads nothing;
- an input read by no op the mode can see but the host (``.tolist()``) counts whole if it holds integers (offsets,
  tables: a kernel must read them to know what to touch) and not at all if it holds floats (nothing used it).

Arguments may be real tensors or, where values do not steer the reads, meta tensors: a test can pass the real routing
with meta weights. The footprint of each input is one bool per byte of its storage, on the CPU.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

# Gathers: aten op -> (argument read partially, how to mark what its indices name on a footprint view of it).
_GATHERS: dict[str, Callable[..., None]] = {}


def _gather(name: str):
    def register(mark: Callable[..., None]) -> Callable[..., None]:
        _GATHERS[name] = mark
        return mark

    return register


@_gather("aten::index")
def _mark_index(view, bound) -> None:
    """``x[idx]``, ``x[:, idx]``, ``x[mask]``: set what the same indexing reaches (``None``: the whole dimension)."""
    view[tuple(slice(None) if i is None else i.cpu() for i in bound["indices"])] = True


@_gather("aten::index_select")
def _mark_index_select(view, bound) -> None:
    view.index_fill_(int(bound["dim"]), bound["index"].cpu().reshape(-1).long(), True)


@_gather("aten::embedding")
def _mark_embedding(view, bound) -> None:
    view.index_fill_(0, bound["indices"].cpu().reshape(-1).long(), True)


@_gather("aten::gather")
def _mark_gather(view, bound) -> None:
    index = bound["index"].cpu().long()
    byte_dim = view.shape[-1]  # the footprint's trailing dimension: the bytes of one element
    view.scatter_(int(bound["dim"]), index.unsqueeze(-1).expand(*index.shape, byte_dim), True)


# ---------------------------------------------------------------- the pass


def _storage(t) -> int:
    try:
        return t.untyped_storage()._cdata
    except Exception:
        return id(t)


class _Read:
    """What one op reads of one input's storage: the view's geometry, and for a gather the op and its arguments."""

    __slots__ = ("key", "size", "stride", "offset", "item", "gather", "bound")

    def __init__(self, key: int, tensor, gather: Callable | None = None, bound: dict | None = None) -> None:
        self.key, self.size, self.stride = key, tuple(tensor.shape), tuple(tensor.stride())
        self.offset, self.item = tensor.storage_offset(), tensor.element_size()
        self.gather, self.bound = gather, bound

    def mark(self, footprint) -> None:
        """Set the bytes this read reaches in ``footprint`` (one bool per byte of the storage)."""
        item = self.item
        view = footprint.as_strided((*self.size, item), (*(s * item for s in self.stride), 1), self.offset * item)
        if self.gather is None:
            view.fill_(True)
        else:
            self.gather(view, self.bound)


def _bind(func, args, kwargs) -> dict[str, Any]:
    values = dict(kwargs)
    for i, arg in enumerate(func._schema.arguments):
        if i < len(args):
            values[arg.name] = args[i]
    return values


@functools.lru_cache(maxsize=None)
def _mode_class():
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    def tensors(tree) -> list:
        return [t for t in tree_flatten(tree)[0] if isinstance(t, torch.Tensor)]

    def is_view(func) -> bool:
        returns = func._schema.returns
        return bool(returns) and all(r.alias_info is not None and not r.alias_info.is_write for r in returns)

    def mutated(func, args, kwargs) -> list:
        found = []
        for i, arg in enumerate(func._schema.arguments):
            if arg.alias_info is not None and arg.alias_info.is_write:
                found += tensors(args[i] if i < len(args) else kwargs.get(arg.name))
        return found

    class Recorder(TorchDispatchMode):
        def __init__(self, inputs: set[int]) -> None:
            super().__init__()
            self.inputs = inputs
            self.events: list[tuple[set[int], set[int], list[_Read]]] = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            if is_view(func):
                return out
            written = [t for t in mutated(func, args, kwargs) if t.numel()]
            outputs = [t for t in tensors(out) if t.numel()]
            if not outputs and not written:
                return out  # nothing with data came out: it read nothing that matters
            name = func._schema.name
            gather = _GATHERS.get(name)
            bound = _bind(func, args, kwargs) if gather else None
            partial = bound[func._schema.arguments[0].name] if gather else None
            reads, touched = set(), []
            for t in tensors((args, kwargs)):
                if not t.numel():
                    continue
                key = _storage(t)
                reads.add(key)
                if key in self.inputs:
                    touched.append(_Read(key, t, gather, bound) if t is partial else _Read(key, t))
            writes = {_storage(t) for t in outputs if _storage(t) not in reads} | {_storage(t) for t in written}
            self.events.append((reads, writes, touched))
            return out

    return Recorder, tensors


def touched_bytes(fn: Callable, args: list, kwargs: dict | None = None) -> dict[int, float]:
    """Bytes of each tensor argument that ``fn(*args, **kwargs)`` reads to make its results, keyed by position.

    Example: a grouped GEMM ``run(a, b, offsets)`` over 128 experts with 8 rows routed to 6 of them gives
    ``{0: all of a, 1: 6 experts' weights, 2: all of offsets}``. Exceptions from ``fn`` propagate.
    """
    import torch

    recorder, tensors = _mode_class()
    positions: dict[int, int] = {}
    for i, arg in enumerate(args):
        if isinstance(arg, torch.Tensor):
            positions.setdefault(_storage(arg), i)
    mode = recorder(set(positions))
    with mode:
        result = fn(*args, **(kwargs or {}))
    written = set().union(*(w for _, w, _ in mode.events)) if mode.events else set()
    live = {_storage(t) for t in tensors(result)} | ({_storage(t) for t in tensors((args, kwargs))} & written)
    footprints: dict[int, Any] = {}
    seen: set[int] = set()
    for reads, writes, touched in reversed(mode.events):
        if live and not (writes & live):
            continue
        live |= reads
        for read in touched:
            seen.add(read.key)
            if read.key not in footprints:
                nbytes = args[positions[read.key]].untyped_storage().nbytes()
                footprints[read.key] = torch.zeros(nbytes, dtype=torch.bool)
            read.mark(footprints[read.key])
    counts: dict[int, float] = {}
    for key, i in positions.items():
        arg = args[i]
        own = arg.numel() * arg.element_size()
        if key in footprints:
            counts[i] = float(min(int(footprints[key].sum()), own))
        elif key in seen or arg.is_floating_point() or "float" in str(arg.dtype):
            counts[i] = 0.0
        else:  # integers read on the host (tolist, item before the mode saw it): the kernel needs them too
            counts[i] = float(own)
    return counts


def input_bytes(definition: Any, touched: dict[int, float]) -> dict[str, float]:
    """``touched_bytes`` keyed by the definition's input names (Python scalars, which are free, left out)."""
    names = [spec.name for spec in definition.inputs]
    return {names[i]: value for i, value in touched.items() if i < len(names)}

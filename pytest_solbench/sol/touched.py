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
with meta weights. Dense reads are kept as byte ranges; gathers and strided reads mark one bool per byte of the
input's storage, on the CPU.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any, Callable

from pytest_solbench.sol.aten import mutated, tensors

# Gathers: aten op -> how to mark, on a footprint view of the argument it reads in part, what its indices name.
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

    def run(self) -> tuple[int, int] | None:
        """The bytes [start, end) of a dense, ungathered read: the common case, kept as a range (None: not one)."""
        if self.gather is not None or not _dense(self.size, self.stride):
            return None
        start = self.offset * self.item
        return start, start + math.prod(self.size) * self.item

    def mark(self, footprint) -> None:
        """Set the bytes this read reaches in ``footprint`` (one bool per byte of the storage)."""
        item = self.item
        view = footprint.as_strided((*self.size, item), (*(s * item for s in self.stride), 1), self.offset * item)
        if self.gather is None:
            view.fill_(True)
        else:
            self.gather(view, self.bound)


class _Footprint:
    """The bytes of one storage read so far: dense ranges as a list (cheap at any size), anything else on a mask."""

    def __init__(self, nbytes: int) -> None:
        self.nbytes, self.runs, self.mask = nbytes, [], None

    def add(self, read: _Read) -> None:
        run = read.run()
        if run is not None:
            self.runs.append(run)
            return
        if self.mask is None:
            import torch

            self.mask = torch.zeros(self.nbytes, dtype=torch.bool)
        read.mark(self.mask)

    def count(self) -> int:
        if self.mask is not None:
            import torch

            for start, end in self.runs:
                self.mask[start:end] = True
            return int(torch.count_nonzero(self.mask))
        total, reached = 0, 0
        for start, end in sorted(self.runs):
            start = max(start, reached)
            if end > start:
                total, reached = total + end - start, end
        return total


def _dense(size: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    """Whether a view covers one gapless run of its storage in some order of its dimensions (a transpose does)."""
    expected = 1
    for st, n in sorted((st, n) for n, st in zip(size, stride) if n != 1):
        if st != expected:
            return False
        expected *= n
    return True


def _bind(func, args, kwargs) -> dict[str, Any]:
    values = dict(kwargs)
    for i, arg in enumerate(func._schema.arguments):
        if i < len(args):
            values[arg.name] = args[i]
    return values


@functools.lru_cache(maxsize=None)
def _mode_class():
    from torch.multiprocessing.reductions import StorageWeakRef
    from torch.utils._python_dispatch import TorchDispatchMode

    def is_view(func) -> bool:
        returns = func._schema.returns
        return bool(returns) and all(r.alias_info is not None and not r.alias_info.is_write for r in returns)

    class Recorder(TorchDispatchMode):
        def __init__(self, inputs: set[int]) -> None:
            super().__init__()
            self.inputs = inputs
            self.events: list[tuple[set[int], set[int], list[_Read]]] = []
            # A freed intermediate's storage address is reused by the next allocation: each fresh result gets an
            # identity of its own, so dead work is not mistaken for the live work that came after it.
            self.current: dict[int, tuple[int, Any]] = {}  # address -> (identity, weak reference to its storage)
            self.fresh = itertools.count(1)

        def ident(self, t) -> int:
            address = _storage(t)
            known = self.current.get(address)
            if known is None:
                return address  # an input, or a constant made outside the mode
            if known[1].expired():  # freed, and the address reused by a tensor made outside the mode
                return self.name(t)
            return known[0]

        def name(self, t) -> int:
            identity = -next(self.fresh)
            self.current[_storage(t)] = (identity, StorageWeakRef(t.untyped_storage()))
            return identity

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            if is_view(func):
                return out
            written = [t for t in mutated(func, args, kwargs) if t.numel()]
            outputs = [t for t in tensors(out) if t.numel()]
            if not outputs and not written:
                return out  # nothing with data came out: it read nothing that matters
            gather = _GATHERS.get(func._schema.name)
            bound = _bind(func, args, kwargs) if gather else None
            partial = bound[func._schema.arguments[0].name] if gather else None
            reads, touched, addresses = set(), [], set()
            for t in tensors((args, kwargs)):
                if not t.numel():
                    continue
                key = self.ident(t)
                reads.add(key)
                addresses.add(_storage(t))
                if key in self.inputs:
                    touched.append(_Read(key, t, gather, bound) if t is partial else _Read(key, t))
            for t in outputs:
                if _storage(t) not in addresses:  # a fresh allocation, not an out= argument
                    self.name(t)
            writes = {self.ident(t) for t in outputs if self.ident(t) not in reads} | {self.ident(t) for t in written}
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
    live = {mode.ident(t) for t in tensors(result)} | ({mode.ident(t) for t in tensors((args, kwargs))} & written)
    footprints: dict[int, _Footprint] = {}
    seen: set[int] = set()
    for reads, writes, touched in reversed(mode.events):
        if live and not (writes & live):
            continue
        live |= reads
        for read in touched:
            seen.add(read.key)
            if read.key not in footprints:
                footprints[read.key] = _Footprint(args[positions[read.key]].untyped_storage().nbytes())
            footprints[read.key].add(read)
    counts: dict[int, float] = {}
    for key, i in positions.items():
        arg = args[i]
        own = arg.numel() * arg.element_size()
        if key in footprints:
            counts[i] = float(min(footprints[key].count(), own))
        elif key in seen or arg.is_floating_point() or "float" in str(arg.dtype):
            counts[i] = 0.0
        else:  # integers read on the host (tolist, item before the mode saw it): the kernel needs them too
            counts[i] = float(own)
    return counts


def input_bytes(definition: Any, touched: dict[int, float]) -> dict[str, float]:
    """``touched_bytes`` keyed by the definition's input names (Python scalars, which are free, left out)."""
    names = [spec.name for spec in definition.inputs]
    return {names[i]: value for i, value in touched.items() if i < len(names)}

"""Counting the tensor-core FLOPs of a reference under a dispatch mode, keyed by operand dtype."""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
from collections import defaultdict
from typing import Any, Callable

from pytest_solbench.data.dtypes import DTYPES
from pytest_solbench.sol.aten import mutated, tensors

# Counting rules (FLOPs = 2 x multiply-adds; element-wise, reduction and data-movement ops count 0):
#   mm-family (mm, addmm, bmm, baddbmm, addbmm, mv, addmv, dot, _int_mm, _scaled_mm, _grouped_mm):
#       2 x numel(A) x N, with A's K doubled when A is packed fp4 (float4_e2m1fn_x2 holds two values per element).
#   convolution (any rank, grouped, transposed): 2 x numel(output) x numel(weight[0]); for a transposed
#       convolution the roles swap: 2 x numel(input) x numel(weight[0]).
#   convolution_backward: the forward count for each of grad_input and grad_weight that is asked for.
#   attention (F.scaled_dot_product_attention and the aten flash/efficient/cudnn/cpu ops):
#       forward  2 x pairs x (D + Dv) per batch x query head;
#       backward 2 x pairs x (3D + 2Dv): S = QK^T is recomputed, then dV, dP, dQ, dK (2.5x forward at D = Dv).
#       pairs = Sq x Sk, or with is_causal the (query, key) pairs torch's top-left causal mask keeps.
# Keys: the schema dtype of the lowest-precision operand, where "operand" follows provenance: a tensor made
# from a lower-precision one by casts, scaling, reshaping, bit-unpacking or table lookup keeps that lower
# precision, so a reference that dequantizes fp8 to fp32 and then multiplies is counted as fp8. Precision
# resets at each counted op's output.

_SCHEMA_NAME: dict[str, str] = {}
for _row in DTYPES.values():
    _SCHEMA_NAME.setdefault(_row.torch_name, _row.name)


def dtype_name(dtype: Any) -> str:
    """The schema name of a torch dtype (``torch.bfloat16`` -> ``"bfloat16"``)."""
    text = str(dtype).removeprefix("torch.")
    return _SCHEMA_NAME.get(text, text)


def _rank(name: str | None) -> int | None:
    row = DTYPES.get(name or "")
    return row.precision_rank if row is not None and row.is_float else None


def causal_pairs(sq: int, sk: int) -> int:
    """(query, key) pairs kept by torch's ``is_causal`` mask (``tril`` of an Sq x Sk matrix)."""
    if sq <= sk:
        return sq * (sq + 1) // 2
    return sk * (sk + 1) // 2 + (sq - sk) * sk


def attention_flops(q_shape, k_shape, v_shape, causal: bool, backward: bool = False) -> int:
    """FLOPs of one attention call on (..., S, D) shaped query, key and value."""
    batch = math.prod(q_shape[:-2])
    sq, sk, d, dv = q_shape[-2], k_shape[-2], q_shape[-1], v_shape[-1]
    pairs = causal_pairs(sq, sk) if causal else sq * sk
    return batch * pairs * (2 * (3 * d + 2 * dv) if backward else 2 * (d + dv))


# ---------------------------------------------------------------- rules per aten op


def _is_fp4(t) -> bool:
    return str(t.dtype).endswith("float4_e2m1fn_x2")


def _mm_like(a, b) -> int:
    return 2 * math.prod(a.shape) * (b.shape[-1] if b.dim() >= 2 else 1) * (2 if _is_fp4(a) else 1)


def _grouped(a, b, offs) -> int:
    try:
        used = int(offs[-1]) if offs is not None else None  # real offsets: padded rows cost nothing
    except Exception:  # meta or fake offsets: data we cannot read
        used = None
    k_scale = 2 if _is_fp4(a) else 1
    if a.dim() == 3 and b.dim() == 3:  # batched
        return _mm_like(a, b)
    if a.dim() == 2 and b.dim() == 3:  # groups along M
        return 2 * (used or a.shape[0]) * a.shape[1] * k_scale * b.shape[-1]
    if a.dim() == 3 and b.dim() == 2:  # groups along N
        return 2 * a.shape[1] * a.shape[2] * k_scale * (used or b.shape[-1])
    return 2 * a.shape[0] * (used or a.shape[1]) * k_scale * b.shape[-1]  # 2d x 2d: groups along K


def _conv(x, w, out, transposed: bool) -> int:
    return 2 * math.prod(x.shape if transposed else out.shape) * math.prod(w.shape[1:])


def _conv_forward(func, args, kwargs, out) -> int:
    return _conv(args[0], args[1], out, bool(_bound(func, args, kwargs)["transposed"]))


def _conv_backward(func, args, kwargs, out) -> int:
    """grad_input and grad_weight each cost one forward convolution; grad_bias is a reduction."""
    bound = _bound(func, args, kwargs)
    grad_input, grad_weight = bound["output_mask"][:2]
    forward = _conv(bound["input"], bound["weight"], bound["grad_output"], bool(bound["transposed"]))
    return forward * (int(bool(grad_input)) + int(bool(grad_weight)))


def _operands(*positions: int) -> Callable:
    return lambda args: tuple(args[i] for i in positions)


def _bound(func, args, kwargs) -> dict[str, Any]:
    """Arguments by their schema names, defaults filled in."""
    values = dict(kwargs)
    for i, arg in enumerate(func._schema.arguments):
        if i < len(args):
            values[arg.name] = args[i]
        elif arg.name not in values and arg.has_default_value():
            values[arg.name] = arg.default_value
    return values


def _attention(backward: bool) -> Callable:
    def count(func, args, kwargs, out) -> int:
        q, k, v = args[1:4] if backward else args[0:3]
        causal = bool(_bound(func, args, kwargs).get("is_causal", False))
        return attention_flops(tuple(q.shape), tuple(k.shape), tuple(v.shape), causal, backward)

    return count


def _rules() -> dict[str, tuple[Callable, Callable]]:
    """aten schema name -> (operands(args), flops(func, args, kwargs, out))."""
    rules: dict[str, tuple[Callable, Callable]] = {}
    for name in ("mm", "bmm", "mv", "dot", "vdot", "_int_mm", "_scaled_mm", "_scaled_mm_v2"):
        rules[f"aten::{name}"] = (_operands(0, 1), lambda f, a, k, o: _mm_like(a[0], a[1]))
    for name in ("addmm", "_addmm_activation", "baddbmm", "addbmm", "addmv"):
        rules[f"aten::{name}"] = (_operands(1, 2), lambda f, a, k, o: _mm_like(a[1], a[2]))
    for name in ("_grouped_mm", "_scaled_grouped_mm"):
        rules[f"aten::{name}"] = (_operands(0, 1), lambda f, a, k, o: _grouped(a[0], a[1], _bound(f, a, k).get("offs")))
    for name in ("convolution", "_convolution"):
        rules[f"aten::{name}"] = (_operands(0, 1), _conv_forward)
    rules["aten::convolution_backward"] = (_operands(0, 1, 2), _conv_backward)
    for stem in ("flash_attention", "efficient_attention", "cudnn_attention", "flash_attention_for_cpu",
                 "fused_attention_overrideable"):  # fmt: skip
        rules[f"aten::_scaled_dot_product_{stem}"] = (_operands(0, 1, 2), _attention(False))
        rules[f"aten::_scaled_dot_product_{stem}_backward"] = (_operands(1, 2, 3), _attention(True))
    return rules


# ---------------------------------------------------------------- the counter


def _storage(t) -> int:
    """An identity for the memory a tensor lives in (views share it)."""
    try:
        return t.untyped_storage()._cdata
    except Exception:  # tensors without storage: each is its own
        return id(t)


class _State:
    """Every op seen (what it read, what it wrote, its FLOPs), the provenance of low-precision tensors, and a
    switch that pauses recording while a counted op runs its own implementation."""

    def __init__(self) -> None:
        from torch.utils.weak import WeakTensorKeyDictionary

        self.events: list[tuple[set[int], set[int], str | None, float]] = []
        self.low = WeakTensorKeyDictionary()  # tensor -> the lowest-precision float dtype it was made from
        self.paused = 0
        # A freed result's address is reused by the next allocation: each fresh result gets an identity of its own
        # (and a weak reference to its storage), so dead work is not mistaken for the live work that came after it.
        self.current: dict[int, tuple[int, Any]] = {}
        self.fresh = itertools.count(1)

    def ident(self, t) -> int:
        address = _storage(t)
        known = self.current.get(address)
        if known is None:
            return address  # an argument, or a constant made outside the mode
        return self.name(t) if known[1].expired() else known[0]

    def name(self, t) -> int:
        from torch.multiprocessing.reductions import StorageWeakRef

        identity = -next(self.fresh)
        try:
            self.current[_storage(t)] = (identity, StorageWeakRef(t.untyped_storage()))
        except Exception:  # a tensor without storage: its own identity
            return identity
        return identity

    @contextlib.contextmanager
    def pause(self):
        self.paused += 1
        try:
            yield
        finally:
            self.paused -= 1

    def effective(self, t) -> str | None:
        own = dtype_name(t.dtype)
        inherited = self.low.get(t)
        candidates = [n for n in (own, inherited) if _rank(n) is not None]
        return min(candidates, key=_rank) if candidates else None  # type: ignore[arg-type]

    def key(self, operands) -> str:
        names = [self.effective(t) for t in operands if t is not None and hasattr(t, "dtype")]
        floats = [n for n in names if n]
        return min(floats, key=_rank) if floats else dtype_name(operands[0].dtype)  # type: ignore[arg-type]

    def record(self, inputs, outputs, mutated=(), key: str | None = None, flops: float = 0) -> None:
        """One op: it reads its inputs' memory and writes its fresh outputs and any argument it mutates."""
        reads = {self.ident(t) for t in inputs}
        addresses = {_storage(t) for t in inputs}
        for t in outputs:
            if _storage(t) not in addresses:  # a fresh allocation, not an out= argument
                self.name(t)
        writes = {s for s in (self.ident(t) for t in outputs) if s not in reads} | {self.ident(t) for t in mutated}
        self.events.append((reads, writes, key, float(flops)))

    def propagate(self, func, inputs, outputs) -> None:
        """Outputs inherit the lowest precision of their inputs (integers only through a bit-view chain)."""
        bitcast = func._schema.name == "aten::view" and func._schema.overload_name == "dtype"
        any_low = [n for n in (self.effective(t) for t in inputs) if n]
        int_low = [self.low[t] for t in inputs if not t.is_floating_point() and t in self.low]
        for out in outputs:
            pool = any_low if out.is_floating_point() or bitcast else int_low
            if not pool:
                continue
            lowest = min(pool, key=_rank)  # type: ignore[arg-type]
            own = _rank(dtype_name(out.dtype))
            if own is None or _rank(lowest) < own:  # type: ignore[operator]
                self.low[out] = lowest

    def totals(self, roots: set[int]) -> dict[str, float]:
        """FLOPs of the ops whose results reach ``roots`` (all ops when there are no roots)."""
        live, flops = set(roots), defaultdict(float)
        for reads, writes, key, count in reversed(self.events):
            if roots and not (writes & live):
                continue  # dead: nothing returned depends on it (an autograd forward run only for its graph)
            live |= reads
            if key is not None and count:
                flops[key] += count
        return dict(flops)


@functools.lru_cache(maxsize=None)
def _modes():
    """The dispatch and function modes, built on first use so that importing this module stays cheap."""
    import torch
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    rules = _rules()

    class DispatchCounter(TorchDispatchMode):
        def __init__(self, state: _State) -> None:
            super().__init__()
            self.state = state

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            if self.state.paused:
                return out
            inputs, outputs = tensors((args, kwargs)), tensors(out)
            rule = rules.get(func._schema.name)
            if rule is None:
                self.state.propagate(func, inputs, outputs)
                self.state.record(inputs, outputs, mutated(func, args, kwargs))
            else:
                operands, count = rule
                key, flops = self.state.key(operands(args)), count(func, args, kwargs, out)
                self.state.record(inputs, outputs, mutated(func, args, kwargs), key, flops)
            return out

    class FunctionCounter(TorchFunctionMode):
        """Counts F.scaled_dot_product_attention where it is called, so is_causal is known on any backend."""

        def __init__(self, state: _State) -> None:
            super().__init__()
            self.state = state

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if self.state.paused or getattr(func, "__name__", "") != "scaled_dot_product_attention":
                return func(*args, **kwargs)
            return counted_attention(self.state, func, args, kwargs)

    class CountedAttention(torch.autograd.Function):
        """Attention whose backward is counted once, from q, k, v and the incoming gradient (S recomputed)."""

        @staticmethod
        def forward(ctx, state, func, rest, q, k, v):
            ctx.state, ctx.func, ctx.rest = state, func, rest
            ctx.save_for_backward(q, k, v)
            with state.pause():
                return func(q, k, v, **rest)

        @staticmethod
        def backward(ctx, grad):
            q, k, v = ctx.saved_tensors
            wanted = ctx.needs_input_grad[3:6]
            with ctx.state.pause(), torch.enable_grad():
                leaves = [t.detach().requires_grad_(w) for t, w in zip((q, k, v), wanted)]
                out = ctx.func(*leaves, **ctx.rest)
                grads = torch.autograd.grad(out, [t for t in leaves if t.requires_grad], grad)
            causal = bool(ctx.rest.get("is_causal")) and ctx.rest.get("attn_mask") is None
            flops = attention_flops(q.shape, k.shape, v.shape, causal, backward=True)
            ctx.state.record([q, k, v, grad], grads, key=ctx.state.key((q, k, v)), flops=flops)
            it = iter(grads)
            return (None, None, None, *[next(it) if w else None for w in wanted])

    def counted_attention(state: _State, func, args, kwargs):
        names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")
        bound = {**dict(zip(names, args)), **kwargs}
        q, k, v = bound.pop("query"), bound.pop("key"), bound.pop("value")
        if torch.is_grad_enabled() and any(t.requires_grad for t in (q, k, v)):
            out = CountedAttention.apply(state, func, bound, q, k, v)
        else:
            with state.pause():
                out = func(q, k, v, **bound)
        causal = bool(bound.get("is_causal")) and bound.get("attn_mask") is None
        flops = attention_flops(q.shape, k.shape, v.shape, causal)
        state.record(tensors((q, k, v, bound)), [out], key=state.key((q, k, v)), flops=flops)
        return out

    return DispatchCounter, FunctionCounter, tensors


def count_flops(fn: Callable, args: list, kwargs: dict | None = None, attention_calls: bool = True) -> dict[str, float]:
    """Run ``fn(*args, **kwargs)`` and return its tensor-core FLOPs keyed by schema dtype name.

    ``args`` may be meta tensors (cheapest: no data, any shape), fake tensors or real CPU tensors.
    Example: ``count_flops(torch.mm, [a, b])`` with bf16 ``a`` [M, K] and ``b`` [K, N] gives
    ``{"bfloat16": 2*M*N*K}``. Only work that feeds the returned tensors (or writes into the arguments)
    counts, so a backward reference built on autograd does not pay for the forward it runs to build the
    graph; a function that returns no tensor and writes no argument has everything counted.
    Exceptions from ``fn`` propagate. ``attention_calls=False`` skips the function mode that reads
    ``F.scaled_dot_product_attention``'s ``is_causal`` at the call (for functions that never call it).
    """
    dispatch_mode, function_mode, tensors = _modes()
    state = _State()
    # The function mode only sees scaled_dot_product_attention's is_causal where it is called; entering one makes
    # torch import torch._dynamo (a second on a CPU), so callers that know fn never calls it pass False.
    with function_mode(state) if attention_calls else contextlib.nullcontext(), dispatch_mode(state):
        result = fn(*args, **(kwargs or {}))
    written = set().union(*(writes for _, writes, _, _ in state.events)) if state.events else set()
    roots = {state.ident(t) for t in tensors(result)} | ({state.ident(t) for t in tensors((args, kwargs))} & written)
    return {key: value for key, value in state.totals(roots).items() if value}

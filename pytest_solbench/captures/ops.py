"""The ops worth a kernel, and how one call of each is stated as a problem: named tensors over named axes, the
constants baked into a one-line reference, and which axes change from call to call.

Ops are read at the aten level (what a TorchDispatchMode sees, after ``F.linear`` became ``addmm`` and
``F.scaled_dot_product_attention`` its backend's op), except ``F.rms_norm``, which decomposes into element-wise
ops on CPU and is read where it is called. A call that cannot be stated faithfully raises ``LeftOut`` with the
reason in the user's words (an explicit attention mask, dropout, batch norm in training mode, a dtype the schema
has no name for).

Layout: the reference receives contiguous tensors of the logical shape. Strides are read where they change the
op: a matmul whose second operand is a transposed contiguous matrix is ``x @ weight.t()``, a linear layer, and is
stated as ``F.linear`` over the weight as stored ([out_features, in_features]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable

from pytest_solbench.data.dtypes import DTYPES
from pytest_solbench.sol.flops import dtype_name

SPATIAL = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


class LeftOut(Exception):
    """A call that is not written as a problem; the message says why, in the user's words."""


@dataclass(frozen=True)
class Tensor:
    """An input or output as the definition states it: a name, axis names (or integer strings), a schema dtype."""

    name: str
    axes: tuple[str, ...]
    dtype: str


@dataclass(frozen=True)
class Call:
    """One op call as a problem states it. Two calls with equal ``Call`` values are the same problem workload."""

    kind: str  # the op kind: first word of the problem's name and its op_type ("linear", "attention", ...)
    aten: str  # the op as captured ("aten::addmm", "F.rms_norm")
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    sizes: tuple[tuple[str, int], ...]  # every axis's value, in order of first use
    var_axes: tuple[str, ...]  # axes that change between calls of one family (tokens, batch, sequence)
    reference: str  # the expression run() returns, over the input names
    label: str  # the constants that tell one family from another in its name ("n64_k32")
    note: str = ""  # what the description should add (a flattened shape, a non-contiguous operand)

    def family(self) -> Call:
        """The call with its var axes unbound: every call of one family shares one definition."""
        return replace(self, sizes=tuple((a, v) for a, v in self.sizes if a not in self.var_axes), note="")

    def var_sizes(self) -> dict[str, int]:
        return {a: v for a, v in self.sizes if a in self.var_axes}


class _Builder:
    """Collects named tensors and checks that each axis has one size."""

    def __init__(self) -> None:
        self.inputs: list[Tensor] = []
        self.outputs: list[Tensor] = []
        self.sizes: dict[str, int] = {}

    def add(self, name: str, shape: tuple[int, ...], dtype: Any, axes: tuple[str, ...], output: bool = False) -> str:
        schema = dtype_name(dtype)
        if schema not in DTYPES:
            raise LeftOut(f"dtype {schema} has no name in the FlashInfer Trace schema")
        if math.prod(shape) == 0:
            raise LeftOut(f"{name} is empty (shape {list(shape)})")
        for axis, size in zip(axes, shape, strict=True):
            if axis.isdigit():
                continue
            if self.sizes.setdefault(axis, int(size)) != size:
                raise LeftOut(f"{axis} is {size} in {name} but {self.sizes[axis]} elsewhere")
        (self.outputs if output else self.inputs).append(Tensor(name, axes, schema))
        return name

    def call(self, kind: str, aten: str, var: tuple[str, ...], reference: str, label: str, note: str = "") -> Call:
        return Call(kind, aten, tuple(self.inputs), tuple(self.outputs), tuple(self.sizes.items()), var, reference,
                    label, note)  # fmt: skip


def _first(out: Any) -> Any:
    return out[0] if isinstance(out, (tuple, list)) else out


def _rows(x) -> tuple[int, int]:
    """A tensor seen as rows of its last dim: (rows, width)."""
    return x.numel() // x.shape[-1], x.shape[-1]


def _flattened(x) -> str:
    return f"captured as {list(x.shape)}, flattened to rows" if x.dim() != 2 else ""


# ---------------------------------------------------------------- matmuls


def _is_transposed(w) -> bool:
    """A 2-D view of a contiguous [n, k] matrix as [k, n] (``weight.t()``), as F.linear passes its weight."""
    return w.dim() == 2 and not w.is_contiguous() and w.t().is_contiguous()


def _mm(aten: str, a: dict, out: Any) -> Call:
    if aten == "aten::mm":
        x, w, c, beta, alpha = a["self"], a["mat2"], None, 1, 1
    else:
        x, w, c, beta, alpha = a["mat1"], a["mat2"], a["self"], a["beta"], a["alpha"]
    m, k = x.shape
    n = w.shape[1]
    b = _Builder()
    if _is_transposed(w) and beta == 1 and alpha == 1 and (c is None or tuple(c.shape) == (n,)):
        b.add("x", (m, k), x.dtype, ("num_tokens", "in_features"))
        b.add("weight", (n, k), w.dtype, ("out_features", "in_features"))
        args = "x, weight"
        if c is not None:
            args += ", " + b.add("bias", (n,), c.dtype, ("out_features",))
        b.add("output", (m, n), out.dtype, ("num_tokens", "out_features"), output=True)
        return b.call("linear", aten, ("num_tokens",), f"F.linear({args})", f"n{n}_k{k}")
    b.add("a", (m, k), x.dtype, ("m", "k"))
    b.add("b", (k, n), w.dtype, ("k", "n"))
    note = "" if w.is_contiguous() else "b was not contiguous in the model"
    if c is None:
        reference = "torch.mm(a, b)"
    else:
        shapes = {(n,): ("n",), (m, n): ("m", "n"), (1, n): ("1", "n")}
        if tuple(c.shape) not in shapes:
            raise LeftOut(f"addmm with a bias of shape {list(c.shape)} (only [n] and [m, n] are written)")
        b.add("c", tuple(c.shape), c.dtype, shapes[tuple(c.shape)])
        reference = f"torch.addmm(c, a, b, beta={beta!r}, alpha={alpha!r})"
    b.add("output", (m, n), out.dtype, ("m", "n"), output=True)
    return b.call("matmul", aten, ("m",), reference, f"n{n}_k{k}", note)


def _bmm(aten: str, a: dict, out: Any) -> Call:
    x, y = (a["self"], a["mat2"]) if aten == "aten::bmm" else (a["batch1"], a["batch2"])
    batch, m, k = x.shape
    n = y.shape[2]
    b = _Builder()
    b.add("a", (batch, m, k), x.dtype, ("batch", "m", "k"))
    b.add("b", (batch, k, n), y.dtype, ("batch", "k", "n"))
    reference = "torch.bmm(a, b)"
    if aten == "aten::baddbmm":
        c = a["self"]
        if tuple(c.shape) != (batch, m, n):
            raise LeftOut(f"baddbmm with an input of shape {list(c.shape)} (only [batch, m, n] is written)")
        b.add("c", (batch, m, n), c.dtype, ("batch", "m", "n"))
        reference = f"torch.baddbmm(c, a, b, beta={a['beta']!r}, alpha={a['alpha']!r})"
    b.add("output", (batch, m, n), out.dtype, ("batch", "m", "n"), output=True)
    note = "" if x.is_contiguous() and y.is_contiguous() else "an operand was not contiguous in the model"
    return b.call("bmm", aten, ("batch", "m"), reference, f"n{n}_k{k}", note)


# ---------------------------------------------------------------- attention


def _attention(aten: str, a: dict, out: Any) -> Call:
    q, k, v = a["query"], a["key"], a["value"]
    if a.get("attn_mask", a.get("attn_bias")) is not None:
        raise LeftOut("attention with an explicit mask: the model's mask is data that random inputs would not match")
    if a.get("dropout_p"):
        raise LeftOut("attention with dropout: its output is random, so there is nothing to check a kernel against")
    if q.dim() != 4:
        raise LeftOut(f"attention on {q.dim()}-d query (only [batch, heads, seq, head_dim] is written)")
    batch, hq, sq, d = q.shape
    hk, sk, dv = k.shape[1], k.shape[2], v.shape[3]
    causal, scale = bool(a.get("is_causal")), a.get("scale")
    heads = "num_qo_heads" if hk == hq else "num_kv_heads"
    keys = "seq_len" if sk == sq else "kv_len"
    value_dim = "head_dim" if dv == d else "head_dim_v"
    b = _Builder()
    b.add("q", tuple(q.shape), q.dtype, ("batch_size", "num_qo_heads", "seq_len", "head_dim"))
    b.add("k", tuple(k.shape), k.dtype, ("batch_size", heads, keys, "head_dim"))
    b.add("v", tuple(v.shape), v.dtype, ("batch_size", heads, keys, value_dim))
    b.add("output", (batch, hq, sq, dv), _first(out).dtype, ("batch_size", "num_qo_heads", "seq_len", value_dim), True)
    options = ([", is_causal=True"] if causal else []) + ([f", scale={scale!r}"] if scale is not None else [])
    options += [", enable_gqa=True"] if hk != hq else []
    var = ("batch_size", "seq_len") + (("kv_len",) if keys == "kv_len" else ())
    label = f"h{hq}" + (f"_kv{hk}" if hk != hq else "") + f"_d{d}" + ("_causal" if causal else "")
    note = "" if q.is_contiguous() else "q was not contiguous in the model (a [batch, seq, heads, dim] view)"
    return b.call("attention", aten, var, f"F.scaled_dot_product_attention(q, k, v{''.join(options)})", label, note)


# ---------------------------------------------------------------- norms


def _layer_norm(aten: str, a: dict, out: Any) -> Call:
    x, shape, weight, bias = a["input"], a["normalized_shape"], a["weight"], a["bias"]
    hidden = math.prod(shape)
    rows = x.numel() // hidden
    b = _Builder()
    b.add("x", (rows, hidden), x.dtype, ("num_tokens", "hidden_size"))
    w = b.add("weight", (hidden,), weight.dtype, ("hidden_size",)) if weight is not None else "None"
    c = b.add("bias", (hidden,), bias.dtype, ("hidden_size",)) if bias is not None else "None"
    b.add("output", (rows, hidden), _first(out).dtype, ("num_tokens", "hidden_size"), output=True)
    note = f"captured as {list(x.shape)}, flattened to rows of {list(shape)}" if x.dim() != 2 or len(shape) != 1 else ""
    reference = f"F.layer_norm(x, x.shape[-1:], {w}, {c}, eps={a['eps']!r})"
    return b.call("layernorm", aten, ("num_tokens",), reference, f"h{hidden}", note)


def _rms_norm(aten: str, a: dict, out: Any) -> Call:
    x, shape, weight = a["input"], tuple(a["normalized_shape"]), a.get("weight")
    hidden = math.prod(shape)
    rows = x.numel() // hidden
    b = _Builder()
    b.add("x", (rows, hidden), x.dtype, ("num_tokens", "hidden_size"))
    w = b.add("weight", (hidden,), weight.dtype, ("hidden_size",)) if weight is not None else "None"
    b.add("output", (rows, hidden), out.dtype, ("num_tokens", "hidden_size"), output=True)
    note = f"captured as {list(x.shape)}, flattened to rows of {list(shape)}" if x.dim() != 2 or len(shape) != 1 else ""
    reference = f"F.rms_norm(x, x.shape[-1:], {w}, eps={a.get('eps')!r})"
    return b.call("rmsnorm", aten, ("num_tokens",), reference, f"h{hidden}", note)


def _image(b: _Builder, name: str, x) -> tuple[str, ...]:
    """[batch_size, channels, *spatial] of a 3- to 5-d activation; its spatial axis names."""
    spatial = SPATIAL.get(x.dim() - 2)
    if spatial is None:
        raise LeftOut(f"{name} of {x.dim()} dims (only 3 to 5: batch, channels, spatial)")
    b.add(name, tuple(x.shape), x.dtype, ("batch_size", "channels", *spatial))
    return spatial


def _group_norm(aten: str, a: dict, out: Any) -> Call:
    x, groups = a["input"], a["group"]
    b = _Builder()
    spatial = _image(b, "x", x)
    w = b.add("weight", (x.shape[1],), a["weight"].dtype, ("channels",)) if a["weight"] is not None else "None"
    c = b.add("bias", (x.shape[1],), a["bias"].dtype, ("channels",)) if a["bias"] is not None else "None"
    b.add("output", tuple(x.shape), _first(out).dtype, ("batch_size", "channels", *spatial), output=True)
    label = f"g{groups}_c{x.shape[1]}_" + "x".join(str(s) for s in x.shape[2:])
    return b.call("groupnorm", aten, ("batch_size",), f"F.group_norm(x, {groups}, {w}, {c}, eps={a['eps']!r})", label)


def _batch_norm(aten: str, a: dict, out: Any) -> Call:
    x = a["input"]
    if a.get("training"):
        raise LeftOut("batch norm in training mode updates its running statistics: capture the model in eval mode")
    if a["running_mean"] is None or a["running_var"] is None:
        raise LeftOut("batch norm without running statistics")
    b = _Builder()
    spatial = _image(b, "x", x)
    names = []
    for name in ("weight", "bias", "running_mean", "running_var"):
        t = a[name]
        names.append(b.add(name, (x.shape[1],), t.dtype, ("channels",)) if t is not None else "None")
    b.add("output", tuple(x.shape), _first(out).dtype, ("batch_size", "channels", *spatial), output=True)
    eps = a.get("eps", a.get("epsilon"))
    w, c, mean, var = names
    reference = f"F.batch_norm(x, {mean}, {var}, {w}, {c}, training=False, eps={eps!r})"
    return b.call("batchnorm", aten, ("batch_size",), reference, f"c{x.shape[1]}_" + "x".join(map(str, x.shape[2:])))


# ---------------------------------------------------------------- convolution


def _convolution(aten: str, a: dict, out: Any) -> Call:
    x, w, bias, groups, transposed = a["input"], a["weight"], a["bias"], a["groups"], bool(a["transposed"])
    out = _first(out)
    spatial = SPATIAL.get(x.dim() - 2)
    if spatial is None:
        raise LeftOut(f"convolution of a {x.dim()}-d input (only 1-d to 3-d convolutions are written)")
    nd = len(spatial)
    out_channels = out.shape[1]
    out_spatial = tuple(s if o == i else f"out_{s}" for s, o, i in zip(spatial, out.shape[2:], x.shape[2:]))
    kernel = tuple(f"kernel_{s}" for s in spatial)
    b = _Builder()
    b.add("x", tuple(x.shape), x.dtype, ("batch_size", "in_channels", *spatial))
    per_group = "in_channels" if groups == 1 else str(w.shape[1])
    if transposed:
        w_axes = ("in_channels", "out_channels" if groups == 1 else str(w.shape[1]), *kernel)
    else:
        w_axes = ("out_channels", per_group, *kernel)
    b.add("weight", tuple(w.shape), w.dtype, w_axes)
    bias_name = b.add("bias", (out_channels,), bias.dtype, ("out_channels",)) if bias is not None else "None"
    args = f"x, weight, {bias_name}"
    b.add("output", tuple(out.shape), out.dtype, ("batch_size", "out_channels", *out_spatial), output=True)
    stride, padding, dilation = list(a["stride"]), list(a["padding"]), list(a["dilation"])
    if transposed:
        reference = (f"F.conv_transpose{nd}d({args}, stride={stride}, padding={padding}, "
                     f"output_padding={list(a['output_padding'])}, groups={groups}, dilation={dilation})")  # fmt: skip
        kind = f"conv_transpose{nd}d"
    else:
        reference = f"F.conv{nd}d({args}, stride={stride}, padding={padding}, dilation={dilation}, groups={groups})"
        depthwise = groups > 1 and groups == x.shape[1] and w.shape[1] == 1
        kind = f"conv{nd}d" + ("_depthwise" if depthwise else "_grouped" if groups > 1 else "")
    label = f"c{x.shape[1]}_o{out_channels}_k" + "x".join(map(str, w.shape[2:]))
    label += "".join(f"_s{s}" for s in [max(stride)] if s != 1) + "_" + "x".join(map(str, x.shape[2:]))
    return b.call(kind, aten, ("batch_size",), reference, label)


# ---------------------------------------------------------------- row-wise and element-wise


def _softmax(aten: str, a: dict, out: Any) -> Call:
    x, dim = a["self"], a["dim"] % max(a["self"].dim(), 1)
    if dim != x.dim() - 1:
        raise LeftOut(f"softmax over dim {a['dim']} of a {x.dim()}-d tensor (only the last dim is written)")
    rows, width = _rows(x)
    b = _Builder()
    b.add("x", (rows, width), x.dtype, ("num_rows", "dim_size"))
    b.add("output", (rows, width), out.dtype, ("num_rows", "dim_size"), output=True)
    fn = "torch.log_softmax" if "log" in aten else "torch.softmax"
    cast = f", dtype={out.dtype}" if out.dtype != x.dtype else ""  # half_to_float: "torch.float32"
    kind = "log_softmax" if "log" in aten else "softmax"
    return b.call(kind, aten, ("num_rows",), f"{fn}(x, dim=-1{cast})", f"d{width}", _flattened(x))


def _embedding(aten: str, a: dict, out: Any) -> Call:
    weight, indices = a["weight"], a["indices"]
    vocab, width = weight.shape
    b = _Builder()
    b.add("input_ids", (indices.numel(),), indices.dtype, ("num_tokens",))
    b.add("weight", (vocab, width), weight.dtype, ("vocab_size", "embedding_dim"))
    b.add("output", (indices.numel(), width), out.dtype, ("num_tokens", "embedding_dim"), output=True)
    note = f"indices captured as {list(indices.shape)}, flattened" if indices.dim() != 1 else ""
    return b.call("embedding", aten, ("num_tokens",), "F.embedding(input_ids, weight)", f"v{vocab}_d{width}", note)


def _activation(name: str) -> Callable[[str, dict, Any], Call]:
    def describe(aten: str, a: dict, out: Any) -> Call:
        x = a["self"]
        approximate = a.get("approximate", "none")
        option = f", approximate={approximate!r}" if approximate != "none" else ""
        b = _Builder()
        b.add("x", (x.numel(),), x.dtype, ("num_elements",))
        b.add("output", (x.numel(),), out.dtype, ("num_elements",), output=True)
        note = f"captured as {list(x.shape)}, flattened" if x.dim() != 1 else ""
        kind = name + ("_tanh" if approximate == "tanh" else "")
        return b.call(kind, aten, ("num_elements",), f"F.{name}(x{option})", "", note)

    return describe


#: aten schema name (or ``F.<name>`` for functional ops read where they are called) -> how to state one call.
DESCRIBERS: dict[str, Callable[[str, dict, Any], Call]] = {
    "aten::mm": _mm,
    "aten::addmm": _mm,
    "aten::bmm": _bmm,
    "aten::baddbmm": _bmm,
    "aten::native_layer_norm": _layer_norm,
    "F.rms_norm": _rms_norm,
    "aten::native_group_norm": _group_norm,
    "aten::native_batch_norm": _batch_norm,
    "aten::_native_batch_norm_legit_no_training": _batch_norm,
    "aten::cudnn_batch_norm": _batch_norm,
    "aten::_batch_norm_no_update": _batch_norm,
    "aten::convolution": _convolution,
    "aten::_softmax": _softmax,
    "aten::_log_softmax": _softmax,
    "aten::embedding": _embedding,
    "aten::gelu": _activation("gelu"),
    "aten::silu": _activation("silu"),
    "aten::mish": _activation("mish"),
}
for _stem in ("flash_attention", "efficient_attention", "cudnn_attention", "flash_attention_for_cpu"):
    DESCRIBERS[f"aten::_scaled_dot_product_{_stem}"] = _attention

#: Functional ops read where they are called (a TorchFunctionMode), because they decompose before aten on some devices.
FUNCTIONAL = {"rms_norm": "F.rms_norm"}


def describe(op: str, arguments: dict[str, Any], out: Any) -> Call:
    """State one call of ``op`` (a key of ``DESCRIBERS``) with its arguments by schema name; ``LeftOut`` if it
    cannot be stated faithfully."""
    return DESCRIBERS[op](op, arguments, out)

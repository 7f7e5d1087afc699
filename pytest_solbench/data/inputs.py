"""Inputs for one round: seeded tensors by dtype and name, safetensors blobs, custom factories, poisoned outputs.

How each input is made (in the definition's order), by its workload spec; an input the workload does not name is
``random``:

- ``scalar``: the workload's value (a 0-d tensor when the definition gives the input shape ``[]``).
- ``safetensors``: read from ``root / path`` (``root``: the problem's blob root) with the ``safetensors`` package;
  dtype and shape must match the definition (fp4: logical or packed shape). A missing file or an unfetched Git LFS
  pointer is ``MissingBlob``.
- ``custom``: the reference's ``custom_inputs_entrypoint``, called once per round as
  ``custom(axes_and_scalars, device)`` after ``torch.manual_seed(seed)``; it must return every input the workload
  does not make itself, each with the definition's dtype and shape.
- ``random``: drawn in float32 (or int64) on the target device from a generator seeded by ``seed`` and the input's
  name, then cast; the same seed gives the same values on the same kind of device. By dtype:

  fp32/fp16/bf16/fp64  randn with outliers (one element in 256, at random places, 16 times as large: as a model's
      activations; every element of a reduction weighs), unless the name says otherwise (first rule that fits;
      names are split into words):
      cos / sin tables (``cos``, ``sin_cached``, ``cos_sin_cache``)  cos/sin of angles in [-pi, pi]
      norm weights (``*norm*weight|gamma|scale``, ``ln*_weight``)     1 + 0.1 randn   (not exactly 1: a kernel that
      norm biases  (``*norm*bias|beta``, ``ln*_bias``)                0.1 randn        skips the affine must fail)
      ``rstd``, ``std``, ``var``, ``variance``, ``invvar``            |randn| + 0.1
      ``*scale*``, ``*scales*``, ``*scaling*``                        U(0.5, 1.5)
      SSM: ``A_log`` U(-5, -1); ``A_cumsum`` cumsum of U(-0.1, 0); ``dt``/``delta`` U(0.001, 0.1); and, when the
           problem is an SSM (an input ``dt``/``delta``/``A_log`` or a name saying mamba/ssm/gdn): ``A`` U(-1, -0.001),
           ``g`` U(-5, 0), ``beta`` U(0, 1)
      ``*probs*``, ``*softmax*``, ``topk_weights``, ``routing_weights``  softmax(randn) over the last dim
      ``*mask*``: causal (``causal`` in the name, or an attention mask with square last dims) 0 on and below the
           diagonal and the dtype's lowest value above; otherwise {0, 1}
      weight matrices, 2-D or more (``*weight*``, ``*kernel*``, ``*proj*``, ``w``, ``w1``, ``wq``, ...)
           randn / sqrt(fan_in), fan_in the last dim (all dims but the first for ``*conv*``)
  fp8 (e4m3fn, e5m2)    randn clamped to [-2, 2] then cast; ``*scale*`` names U(0.5, 1.5)
  fp4 (e2m1)            randn rounded to the E2M1 grid and packed two per byte (last dim halved)
  e8m0 scales           exponents 2^-1, 2^0 or 2^1
  bool                  random; int8 [-128, 128); uint8 [0, 256); other ints [-1024, 1024), except:
  index-like ints, by the last words of the name:
      ``*indptr``, ``cu_seqlens*``, ``*offsets`` (1-D)  sorted, from 0 up to a total T
      ``*lens``, ``*lengths``, ``*seqlens``           [1, L]
      ``*indices``, ``*idx``, ``*ids``, ``*positions``, ``*mapping``, ``*table``  [0, N) (``topk_*``: distinct per row)
      ``*mask*``                                      {0, 1}
    N is the size of what the index points into: the first dim of a sibling input named by the first words
    (``state_batch_indices`` -> ``state``, ``kv_indices`` -> ``kv_cache``); else an axis named for them
    (``expert``/``topk`` -> ``num_experts``, ``kv``/``page``/``block`` -> ``num_pages``, ``token``/``input`` ->
    ``vocab_size``, ``position`` -> ``max_position_embeddings``/``max_seq_len``/``seq_len``, ``batch``/``seq`` ->
    ``batch_size``, any word w -> ``num_ws``, ``num_w``, ``n_ws``, ``w_size``); T is the length of the sibling
    ``<w>_indices`` (or of ``q``/``k`` for ``qo``/``cu_seqlens_q``/``_k``) or an axis ``total_<w>``,
    ``num_<w>_indices``, ``num_tokens``; L comes from ``max_<w>_len``, ``max_seq_len``, ``seq_len``. When nothing
    fits, the bound is 1024: ship such inputs as safetensors or write a custom_inputs_entrypoint.

Long: the rules above are one table read top to bottom (each name rule beside its value rule); split across
modules, a reader could no longer see which rule wins for a given input name.
"""

from __future__ import annotations

import math
import random
import re
import zlib
from pathlib import Path
from typing import Any, Callable

from pytest_solbench.data.dtypes import DTYPES, is_fp4
from pytest_solbench.data.trace import Definition, InputSpec, TensorSpec, Workload

#: The 16 E2M1 codes: bit 3 is the sign, bits 0-2 index the magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6.
E2M1_VALUES: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0)
_E2M1_MIDPOINTS = (0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0)
#: The byte an fp4 output is poisoned with: -6, -6 (fp4 has no NaN, so the most negative code stands in for one).
FP4_POISON_BYTE = 0xFF
_FALLBACK_BOUND = 1024


class InputError(Exception):
    """An input that cannot be made as the problem says: a bad blob, a wrong shape or dtype, a custom factory gap."""


class MissingBlob(Exception):
    """A safetensors file a workload names is not on disk, or is a Git LFS pointer not yet fetched."""

    def __init__(self, path: Path | str, reason: str = "not found") -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path}: {reason}")


# ---------------------------------------------------------------- fp4


def fp4_torch_dtype():  # -> torch.dtype
    """``torch.float4_e2m1fn_x2`` where this torch has it, else ``torch.uint8``."""
    import torch

    return getattr(torch, "float4_e2m1fn_x2", torch.uint8)


def pack_fp4(values):  # (Tensor) -> Tensor
    """Round to the nearest E2M1 code (ties to even, saturating at 6) and pack two per byte, element 2i low."""
    import torch

    x = values.float()
    if x.ndim == 0 or x.shape[-1] % 2:
        raise ValueError(f"packing fp4 needs an even last dimension, got shape {tuple(x.shape)}")
    mids = torch.tensor(_E2M1_MIDPOINTS, device=x.device)
    mag = x.abs().nan_to_num(nan=6.0)
    down = torch.bucketize(mag, mids, right=False)  # a tie goes to the lower code...
    up = torch.bucketize(mag, mids, right=True)  # ...or the upper one: keep the even code (mantissa bit 0)
    code = torch.where((down != up) & (down % 2 == 1), up, down).to(torch.uint8)
    code |= torch.signbit(x).to(torch.uint8) << 3
    packed = (code[..., 0::2] | (code[..., 1::2] << 4)).contiguous()
    dtype = fp4_torch_dtype()
    return packed if dtype == torch.uint8 else packed.view(dtype)


def unpack_fp4(packed):  # (Tensor) -> Tensor
    """The float32 values of packed fp4 (``float4_e2m1fn_x2`` or ``uint8``); the last dim doubles."""
    import torch

    raw = packed if packed.dtype == torch.uint8 else packed.view(torch.uint8)
    codes = torch.stack((raw & 0x0F, raw >> 4), dim=-1).reshape(*raw.shape[:-1], raw.shape[-1] * 2)
    return torch.tensor(E2M1_VALUES, dtype=torch.float32, device=raw.device)[codes.long()]


# ---------------------------------------------------------------- shapes and dtypes


def torch_dtype(name: str):  # -> torch.dtype
    """The torch dtype holding a schema dtype (fp4: ``float4_e2m1fn_x2``, or ``uint8`` on an older torch)."""
    import torch

    return fp4_torch_dtype() if is_fp4(name) else getattr(torch, DTYPES[name].torch_name)


def torch_shape(definition: Definition, spec: TensorSpec, axis_values: dict[str, int]) -> tuple[int, ...]:
    """The tensor shape of an input or output: the definition's, with the last dim halved for packed fp4."""
    shape = definition.shape_of(spec, axis_values)
    if not is_fp4(spec.dtype):
        return shape
    if not shape or shape[-1] % 2:
        raise InputError(f"{spec.name}: an fp4 tensor needs an even last dimension, the definition gives {list(shape)}")
    return (*shape[:-1], shape[-1] // 2)


# ---------------------------------------------------------------- safetensors

_LFS_POINTER = b"version https://git-lfs"


def read_safetensors(path: Path, keys: list[str] | None = None) -> dict[str, Any]:
    """Read tensors (all, or ``keys``) from a safetensors file onto the CPU, through the ``safetensors`` package.

    Every dtype the format has loads, ``F4`` (as packed ``float4_e2m1fn_x2``) and ``F8_E8M0`` included. A missing
    file, or a Git LFS pointer left by a clone without the data, is ``MissingBlob``; a file that is not safetensors
    or lacks a key is ``InputError`` naming the file.
    """
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise MissingBlob(path)
    with path.open("rb") as fh:
        if fh.read(len(_LFS_POINTER)) == _LFS_POINTER:
            raise MissingBlob(path, "is a Git LFS pointer, not the data: fetch it with `git lfs pull`")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as blob:
            held = list(blob.keys())
            missing = [k for k in keys or () if k not in held]
            if missing:
                shown = ", ".join(sorted(held)) or "none"
                raise InputError(f"{path} holds no tensor {missing[0]!r} (it holds {shown})")
            return {key: blob.get_tensor(key) for key in (held if keys is None else keys)}
    except (SafetensorError, OSError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: not a readable safetensors file ({exc})") from None


def _load_blob(spec: TensorSpec, how: InputSpec, definition: Definition, axis_values: dict, root: Path, device: str):
    path, key = Path(root) / (how.path or ""), how.tensor_key or spec.name
    tensor = read_safetensors(path, [key])[key]
    if spec.shape is None:
        if tensor.numel() != 1:
            raise InputError(f"input {spec.name!r} is a scalar but {path} [{key}] holds {tensor.numel()} values")
        return tensor.reshape(()).item()
    return to_device(_checked(spec, tensor, definition, axis_values, f"{path} [{key}]"), device)


def _checked(spec: TensorSpec, tensor, definition: Definition, axis_values: dict, source: str):
    """``tensor`` if its dtype and shape are the definition's (fp4 may come as packed ``uint8``)."""
    import torch

    want_dtype, want = torch_dtype(spec.dtype), torch_shape(definition, spec, axis_values)
    if is_fp4(spec.dtype) and tensor.dtype == torch.uint8:
        tensor = tensor.view(want_dtype)
    if tensor.dtype != want_dtype:
        raise InputError(f"input {spec.name!r} from {source} is {tensor.dtype}, the definition says {spec.dtype}")
    if tuple(tensor.shape) != want:
        shown = f"{want} (packed; {list(definition.shape_of(spec, axis_values))} fp4 values)" if is_fp4(spec.dtype) else want
        raise InputError(f"input {spec.name!r} from {source} has shape {tuple(tensor.shape)}, the definition says {shown}")
    return tensor


def to_device(tensor, device: str):
    """``tensor`` on ``device``; fp4 and e8m0 travel as bytes (not every torch build copies those dtypes)."""
    import torch

    if str(tensor.device) == device:
        return tensor
    if tensor.element_size() == 1 and tensor.dtype not in (torch.uint8, torch.int8, torch.bool):
        return tensor.view(torch.uint8).to(device).view(tensor.dtype)
    return tensor.to(device)


# ---------------------------------------------------------------- making inputs


def make_inputs(
    definition: Definition,
    workload: Workload,
    axis_values: dict[str, int],
    *,
    seed: int,
    device: str,
    root: Path,
    custom: Callable[..., dict[str, Any]] | None = None,
) -> list[Any]:
    """The inputs of one round, in the definition's order (see the module docstring for the rules)."""
    import torch

    made = _call_custom(definition, workload, axis_values, seed, device, custom) if custom is not None else None
    context = _Context(definition, axis_values)
    args: list[Any] = []
    for spec in definition.inputs:
        how = workload.inputs.get(spec.name)
        if how is not None and how.kind == "scalar":
            args.append(_scalar(spec, how.value, device))
        elif how is not None and how.kind == "safetensors":
            args.append(_load_blob(spec, how, definition, axis_values, root, device))
        elif made is not None and spec.name in made:
            value = made[spec.name]
            if isinstance(value, torch.Tensor) and spec.shape is not None:
                value = to_device(_checked(spec, value, definition, axis_values, "the custom_inputs_entrypoint"), device)
            args.append(value)
        elif made is not None and (how is None or how.kind == "custom"):
            raise InputError(f"{definition.custom_inputs_entrypoint}() returned no input {spec.name!r}")
        elif how is not None and how.kind == "custom":
            raise InputError(f"input {spec.name!r} is custom but {definition.name} has no custom_inputs_entrypoint")
        else:
            args.append(_random(spec, context, seed, device))
    return args


def _call_custom(definition: Definition, workload: Workload, axis_values: dict, seed: int, device: str, custom) -> dict:
    scalars = {name: how.value for name, how in workload.inputs.items() if how.kind == "scalar"}
    _seed_torch(seed, device)
    random.seed(seed)
    result = custom({**axis_values, **scalars}, device)
    if not isinstance(result, dict):
        raise InputError(f"{definition.custom_inputs_entrypoint}() must return a dict of input name to value, "
                         f"got {type(result).__name__}")  # fmt: skip
    return result


def _seed_torch(seed: int, device: str) -> None:
    """``torch.manual_seed(seed)`` for the generators a custom ``make_inputs`` can draw from here (the CPU's, and the
    GPU's where it runs on one): the same values, without queuing a seeding call with its stack for every device kind
    torch knows but has not started (0.9 ms a set on the GPU machine, and a queue that grew with every set)."""
    import torch

    torch.random.default_generator.manual_seed(seed)
    if device.startswith("cuda"):
        torch.cuda.manual_seed_all(seed)


def _scalar(spec: TensorSpec, value: Any, device: str) -> Any:
    import torch

    if spec.shape is None:
        return value
    if spec.shape:
        raise InputError(f"input {spec.name!r} has shape {list(spec.shape)} but the workload gives a scalar value")
    return torch.tensor(value, dtype=torch_dtype(spec.dtype), device=device)


def _stream_seed(seed: int, name: str) -> int:
    """A generator seed per (seed, input name), stable across processes (``hash()`` is not)."""
    return (seed * 0x9E3779B1 + zlib.crc32(name.encode())) % (2**63)


def _words(name: str) -> list[str]:
    return re.findall(r"[a-z]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower())


def is_ssm(definition: Definition) -> bool:
    """A state-space scan or linear-attention recurrence (Mamba, gated delta rule), told by its inputs or its name."""
    names = {s.name for s in definition.inputs}
    label = f"{definition.name} {definition.op_type}".lower()
    return bool(names & {"dt", "delta", "A_log"}) or bool(re.search(r"mamba|ssm|ssd|selective|gdn|delta_rule", label))


def is_attention(definition: Definition) -> bool:
    """A softmax attention, told by its op type: its queries and keys are drawn without outliers (``_SCORE_WORDS``)."""
    op_type = definition.op_type.lower()
    return not is_ssm(definition) and bool(re.search(r"attention|attn|sdpa|prefill|decode|mla|gqa|mha|mqa", op_type))


class _Context:
    """What the name rules may look at: the other inputs' shapes and the axis values."""

    def __init__(self, definition: Definition, axis_values: dict[str, int]) -> None:
        self.definition, self.axes = definition, {k.lower(): v for k, v in axis_values.items()}
        self.axis_values = axis_values
        self.first_dims = {
            s.name.lower(): definition.shape_of(s, axis_values)[0] for s in definition.inputs if s.shape
        }
        self.ssm = is_ssm(definition)
        self.attention = is_attention(definition)

    def shape(self, spec: TensorSpec) -> tuple[int, ...]:
        return self.definition.shape_of(spec, self.axis_values)

    def axis(self, *names: str) -> int | None:
        return next((self.axes[n] for n in names if n in self.axes), None)

    def sibling(self, *names: str) -> int | None:
        return next((self.first_dims[n] for n in names if n in self.first_dims), None)


def _random(spec: TensorSpec, context: _Context, seed: int, device: str) -> Any:
    """Random values drawn on the device they are for: generating a large tensor on the CPU and copying it over
    cost seconds per round on the H100 (470 M elements for a SwiGLU input). Values depend on the seed and the
    device type, so a CPU run and a GPU run with the same seed see different (equally distributed) inputs."""
    import torch

    where = torch.device(device)
    gen = torch.Generator(device=where).manual_seed(_stream_seed(seed, spec.name))
    with where:
        return _draw(spec, context, gen, device)


def _draw(spec: TensorSpec, context: _Context, gen: Any, device: str) -> Any:
    import torch

    shape = () if spec.shape is None else context.shape(spec)
    dtype, words = spec.dtype, _words(spec.name)
    if is_fp4(dtype):
        torch_shape(context.definition, spec, context.axis_values)  # an odd last dim is the problem's error
        value = pack_fp4(torch.randn(shape, generator=gen))
    elif dtype.startswith("float8_e4m3") or dtype.startswith("float8_e5m2"):
        scale = bool({"scale", "scales", "scaling"} & set(words))
        x = torch.rand(shape, generator=gen) + 0.5 if scale else torch.randn(shape, generator=gen).clamp(-2, 2)
        value = x.to(torch_dtype(dtype))
    elif dtype == "float8_e8m0fnu":
        value = torch.randint(126, 129, shape, generator=gen).to(torch.uint8).view(torch.float8_e8m0fnu)
    elif DTYPES[dtype].is_float:
        value = _float_values(spec.name, words, shape, dtype, gen, context).to(torch_dtype(dtype))
    elif dtype == "bool":
        value = torch.randint(0, 2, shape, generator=gen).bool()
    else:
        value = _int_values(words, shape, dtype, gen, context).to(torch_dtype(dtype))
    return value.item() if spec.shape is None else to_device(value, device)


def _float_values(name: str, words: list[str], shape: tuple[int, ...], dtype: str, gen, context: _Context):
    import torch

    w, low, ndim = set(words), name.lower(), len(shape)

    def randn():
        return torch.randn(shape, generator=gen)

    def uniform(lo: float, hi: float):
        return torch.rand(shape, generator=gen) * (hi - lo) + lo

    if "cos" in w or "sin" in w:
        angles = randn().clamp(-math.pi, math.pi)
        if "cos" in w and "sin" in w and ndim and shape[-1] % 2 == 0:
            half = angles[..., : shape[-1] // 2]
            return torch.cat([half.cos(), half.sin()], dim=-1)
        return angles.cos() if "cos" in w else angles.sin()
    if "norm" in low or "ln" in w:
        if w & {"weight", "gamma", "scale", "w"}:
            return 1 + 0.1 * randn()
        if w & {"bias", "beta", "b"}:
            return 0.1 * randn()
    if w & {"rstd", "std", "var", "variance", "invvar", "rsigma"}:
        return randn().abs() + 0.1
    if w & {"scale", "scales", "scaling"}:
        return uniform(0.5, 1.5)
    if low == "a_log":
        return uniform(-5, -1)
    if low == "a_cumsum":
        return uniform(-0.1, 0).cumsum(-1) if ndim else uniform(-0.1, 0)
    if low in ("dt", "delta") or (words[:1] == ["dt"] and "bias" not in w):
        return uniform(0.001, 0.1)
    if context.ssm and name in ("A", "g", "beta"):
        return {"A": lambda: uniform(-1, -0.001), "g": lambda: uniform(-5, 0), "beta": lambda: uniform(0, 1)}[name]()
    if w & {"probs", "prob", "probabilities", "softmax"} or ("weights" in w and w & {"topk", "routing"}):
        return randn().softmax(-1) if ndim else uniform(0, 1)
    if "mask" in w:
        causal = "causal" in w or (bool(w & {"attn", "attention"}) and ndim >= 2 and shape[-1] == shape[-2])
        if causal and ndim >= 2:
            upper = torch.ones(shape[-2:], dtype=torch.bool).triu(1).expand(shape)
            lowest = max(torch.finfo(torch_dtype(dtype)).min, torch.finfo(torch.float32).min)
            return torch.zeros(shape).masked_fill(upper, lowest)
        return torch.randint(0, 2, shape, generator=gen).float()
    weighty = w & {"weight", "weights", "kernel", "proj", "w", "wq", "wk", "wv", "wo", "wqkv", "wkv"} or "proj" in low
    if weighty and ndim >= 2:
        fan_in = math.prod(shape[1:]) if "conv" in low else shape[-1]
        return randn() / math.sqrt(max(fan_in, 1))
    if context.attention and w & _SCORE_WORDS:
        return randn()  # a softmax over q.k: outliers made it one-hot (red-team round 70, eu01), as below
    return _with_outliers(randn(), gen)


#: The words of attention's queries and keys (``q``, ``k_cache``, ``key``), whose products go through the softmax
_SCORE_WORDS = {"q", "k", "query", "key", "queries", "keys"}
OUTLIER_RATE, OUTLIER_SCALE = 1 / 256, 16.0


def _with_outliers(values, gen):
    """``values`` with one element in OUTLIER_RATE, at random places, OUTLIER_SCALE times as large: a model's
    activations carry outliers, and they make every element of a reduction weigh. Over plain randn a kernel that
    read 7/8 of each row for an RMSNorm's statistics, or every fourth row for a GroupNorm's, stayed within the
    tolerance (red-team rounds 65 and 66, eh03, ek01); one outlier it skips moves a row's RMS by about 1.5 %.

    Not in attention's queries and keys: an outlier there adds tens to every score it meets, and the softmax became
    one-hot (a row's effective keys a median 2.5 of 1,500 for Whisper's encoder), where a kernel that read only the
    value blocks near each row's maximum passed (red-team round 70, eu01). Plain randn keeps scores of about unit
    spread, every key weighing; values keep their outliers."""
    import torch

    picks = torch.rand(values.shape, generator=gen, device=values.device) < OUTLIER_RATE
    return torch.where(picks, values * OUTLIER_SCALE, values)


_INDEX_WORDS = {"indices", "index", "idx", "ids", "id", "positions", "position", "pos", "mapping", "table", "tables", "loc"}
_LENGTH_WORDS = {"lens", "lengths", "len", "length", "seqlens"}
_AXIS_HINTS = {
    "expert": ("num_experts", "num_local_experts", "n_routed_experts", "num_routed_experts", "n_experts"),
    "token": ("vocab_size", "vocab", "num_embeddings"),
    "kv": ("num_pages", "num_blocks", "num_kv_pages", "total_pages"),
    "position": ("max_position_embeddings", "max_seq_len", "max_seqlen", "max_position", "seq_len"),
    "batch": ("batch_size", "num_seqs", "num_requests", "max_batch_size"),
    "slot": ("num_slots", "cache_size", "num_cache_slots"),
}  # fmt: skip
_HINT_ALIASES = {"topk": "expert", "experts": "expert", "input": "token", "vocab": "token", "page": "kv",
                 "pages": "kv", "block": "kv", "blocks": "kv", "positions": "position", "pos": "position",
                 "seq": "batch", "req": "batch", "request": "batch", "slots": "slot"}  # fmt: skip


def _index_bound(words: list[str], stem: list[str], context: _Context) -> int:
    """How many rows the index points into (module docstring): a sibling's first dim, a named axis, else 1024."""
    for i in range(len(stem), 0, -1):
        base = "_".join(stem[:i])
        found = context.sibling(base, f"{base}_cache", f"{base}s")
        if found is not None:
            return found
    for word in words:
        hints = _AXIS_HINTS.get(_HINT_ALIASES.get(word, word), ())
        generic = (f"num_{word}s", f"num_{word}", f"n_{word}s", f"{word}_size", f"max_num_{word}s") if word in stem else ()
        found = context.axis(*hints, *generic)
        if found is not None:
            return found
    return _FALLBACK_BOUND


def _int_values(words: list[str], shape: tuple[int, ...], dtype: str, gen, context: _Context):
    import torch

    w = set(words)
    if "mask" in w:
        return torch.randint(0, 2, shape, generator=gen)
    pointer = "indptr" in w or ("cu" in w and "seqlens" in w) or (words[-1:] == ["offsets"] and len(shape) == 1)
    if pointer and len(shape) == 1:
        stem = [x for x in words if x not in ("indptr", "cu", "seqlens", "offsets")]
        base = "_".join(stem)
        short = {"qo": "q", "kv": "k"}.get(base, base)
        total = context.sibling(f"{base}_indices" if base else "indices", short)
        if total is None:
            total = context.axis(f"total_{base}", f"num_{base}_indices", f"total_{short}", "num_tokens", "total_tokens")
        total = _FALLBACK_BOUND if total is None else total
        n = shape[0]
        if n < 2:
            return torch.zeros(shape, dtype=torch.int64)
        cuts = torch.randint(0, total + 1, (n - 2,), generator=gen).sort().values
        return torch.cat([torch.zeros(1, dtype=torch.int64), cuts, torch.full((1,), total, dtype=torch.int64)])
    if words and (words[-1] in _LENGTH_WORDS or "seqlens" in w):
        stem = [x for x in words if x not in _LENGTH_WORDS]
        candidates = [f"max_{x}_len" for x in stem] + [f"max_{x}len" for x in stem]
        longest = context.axis(*candidates, "max_seq_len", "max_seqlen", "max_len", "seq_len", "max_kv_len", "kv_len")
        return torch.randint(1, max(longest or _FALLBACK_BOUND, 1) + 1, shape, generator=gen)
    if w & _INDEX_WORDS:
        stem = [x for x in words if x not in _INDEX_WORDS]
        bound = max(_index_bound(words, stem, context), 1)
        rows = math.prod(shape[:-1]) if shape else 1
        if "topk" in w and shape and shape[-1] <= bound and rows * bound <= 1 << 24:
            order = torch.rand((rows, bound), generator=gen).argsort(dim=-1)[:, : shape[-1]]
            return order.reshape(shape)
        return torch.randint(0, bound, shape, generator=gen)
    low, high = {"int8": (-128, 128), "uint8": (0, 256)}.get(dtype, (-1024, 1024))
    return torch.randint(low, high, shape, generator=gen)


# ---------------------------------------------------------------- outputs, copies, changes


def poison_(out: Any) -> Any:
    """Poison an output buffer in place, as ``allocate_outputs`` makes it: timed calls get the very poison checked
    calls get, so no element tells the two apart (red-team round 3: zeroed timed outputs did)."""
    import torch

    if out.dtype == torch.bool:
        return out.fill_(True)
    if "float4" in str(out.dtype):
        out.view(torch.uint8).fill_(FP4_POISON_BYTE)
        return out
    if out.is_floating_point():
        return out.fill_(float("nan"))
    info = torch.iinfo(out.dtype)
    return out.fill_(info.max if info.min == 0 else info.min)


def allocate_outputs(definition: Definition, axis_values: dict[str, int], device: str) -> list[Any]:
    """The outputs for a destination-passing kernel, poisoned so that an element it does not write fails.

    Floats (fp8 included) hold NaN; integers their dtype's lowest value (``uint8``: 255); fp4, which has no NaN,
    holds the byte 0xFF (-6, -6), so an unwritten fp4 element fails only where the reference is not -6; ``bool``
    cannot be poisoned and holds ``True``. A scalar output is a poisoned 0-d tensor.
    """
    import torch

    outputs = []
    for spec in definition.outputs:
        shape = () if spec.shape is None else torch_shape(definition, spec, axis_values)
        dtype = torch_dtype(spec.dtype)
        if is_fp4(spec.dtype):
            out = torch.full(shape, FP4_POISON_BYTE, dtype=torch.uint8, device=device).view(dtype)
        elif dtype == torch.bool:
            out = torch.ones(shape, dtype=torch.bool, device=device)
        elif DTYPES[spec.dtype].is_float or spec.dtype == "float8_e8m0fnu":
            out = torch.full(shape, float("nan"), dtype=dtype, device=device)
        else:
            info = torch.iinfo(dtype)
            out = torch.full(shape, info.max if info.min == 0 else info.min, dtype=dtype, device=device)
        outputs.append(out)
    return outputs


def clone_inputs(args: list[Any]) -> list[Any]:
    """Deep copies of the tensors (strides kept where dense), scalars as they are."""
    import torch

    def copy(t):
        if t.element_size() == 1 and t.dtype not in (torch.uint8, torch.int8, torch.bool):
            return t.view(torch.uint8).clone().view(t.dtype)  # fp4, e8m0: copy the bytes
        return t.clone()

    return [copy(a) if isinstance(a, torch.Tensor) else a for a in args]


def changed(before: list[Any], after: list[Any]) -> set[int]:
    """The positions where ``after`` differs from ``before``, a private copy made before the kernel ran: tensors by
    dtype, shape and every byte (compared where they are, on the GPU without a copy to the host), scalars by value.
    Exact: unlike a sum or any fingerprint short of a cryptographic hash, no edit of the bytes can keep it."""
    import torch

    def raw(t: Any) -> Any:
        return t.detach().contiguous().reshape(-1).view(torch.uint8)

    def same(a: Any, b: Any) -> bool:
        if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
            return a.dtype == b.dtype and a.shape == b.shape and torch.equal(raw(a), raw(b).to(a.device))
        return type(a) is type(b) and repr(a) == repr(b)

    return {i for i, (a, b) in enumerate(zip(before, after)) if not same(a, b)}

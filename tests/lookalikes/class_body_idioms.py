"""FALSE POSITIVE probe (red-team round 50, cp FV1-FV5, FV7, FV8): an RMSNorm whose helpers use the class-body and
interop idioms of ordinary Python: ``__hash__ = None`` beside ``__eq__``, ``__str__ = __repr__``, a pre-3.11 string
enum's ``__str__ = str.__str__``, ``__match_args__`` for a class pattern, ``__slots__`` with ``"__weakref__"``,
``hasattr`` asking for ``__cuda_array_interface__`` / ``__dlpack__``, a host table's ``__array__``, and a debug log
line fed ``locals()`` inside a function. Each was a ``dunder`` or ``introspection`` refusal."""
import enum
import logging

import numpy as np
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
log = logging.getLogger(__name__)


class Mode(str, enum.Enum):
    FAST = "fast"
    EXACT = "exact"
    __str__ = str.__str__


class Tile:
    __match_args__ = ("rows", "eps")
    __slots__ = ("rows", "eps", "__weakref__")

    def __init__(self, rows, eps):
        self.rows, self.eps = rows, eps

    def __eq__(self, other):
        return isinstance(other, Tile) and (self.rows, self.eps) == (other.rows, other.eps)

    __hash__ = None

    def __repr__(self):
        return f"Tile({self.rows}, {self.eps})"

    __str__ = __repr__


class Ones:
    def __init__(self, n):
        self.n = n

    def __array__(self, dtype=None, copy=None):
        return np.ones(self.n, dtype=dtype or np.float32)


def _as_torch(x):
    if hasattr(x, "__cuda_array_interface__") or hasattr(x, "__dlpack__"):
        return torch.as_tensor(x)
    return torch.from_numpy(np.asarray(x))


def run(hidden_states, weight, output):
    match Tile(256, 1e-5):
        case Tile(rows, eps):
            pass
    n, h = hidden_states.shape
    mode = str(Mode.EXACT)
    log.debug("rmsnorm n=%(n)d h=%(h)d mode=%(mode)s", locals())
    scale = _as_torch(Ones(h)).to(weight.device)
    for start in range(0, n, rows):
        x = hidden_states[start:start + rows].float()
        y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (weight.float() * scale)
        output[start:start + rows].copy_(y.to(output.dtype))

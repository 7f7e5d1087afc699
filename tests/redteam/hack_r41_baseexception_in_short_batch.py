"""Red-team round 41, bn03 (attack-bn): bn01's window reached from CPU mode's short batch, whose ``except
Exception`` missed a ``BaseException`` too: honest in its checked calls, the kernel raised in the batch's first call
and did the library's work in the message. Now that item is RUNTIME_ERROR with the message unread, the process is
retired, and every later item starts again from the import (it gains nothing)."""
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "RUNTIME_ERROR"
LAYER = "runtime-cpu"
CAUGHT_BY = "the short batch catches BaseException too; its message is told, not read, outside the record; the process is retired"
EPS = 1e-5
_state = {"calls": 0}


def _rms(x, w):
    xf = x.float()
    y = _state["norm"](torch.cat([xf, -xf], -1))[..., : xf.shape[-1]]
    return (y * w.float()).to(x.dtype)


class _Later(BaseException):
    def __init__(self, x, w):
        super().__init__("later")
        self.x, self.w = x, w

    def __str__(self):
        if "fn" not in _state:
            layer = torch.nn.TransformerEncoderLayer(4, 1, 8).norm1
            layer.weight = None
            layer.bias = None
            layer.normalized_shape = (2 * self.x.shape[-1],)
            _state["norm"] = layer
            fn = torch.compile(_rms, dynamic=True)
            with torch.no_grad():
                fn(self.x.clone(), self.w.clone())
                fn(torch.cat([self.x, self.x]).clone(), self.w.clone())
            _state["fn"] = fn
        return "short batch interrupted"


def run(hidden_states, weight, output):
    if "fn" in _state:
        output.copy_(_state["fn"](hidden_states, weight))
        return
    _state["calls"] += 1
    if _state["calls"] == 3:
        raise _Later(hidden_states, weight)
    xf = hidden_states.float()
    inv = torch.rsqrt((xf * xf).mean(-1, keepdim=True) + EPS)
    output.copy_((xf * inv * weight.float()).to(output.dtype))

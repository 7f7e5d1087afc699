"""Red-team round 41, bn01 (attack-bn): a ``BaseException`` left the harness's checked call, whose ``except
Exception`` missed it, and the worker loop formatted it after every record had closed: the kernel's ``__str__``
compiled a library LayerNorm (an RMSNorm on ``[x, -x]``) with ``torch.compile`` unrecorded, and the judge kept the
process, so every later item ran Inductor's code of the library op: PASSED under strict on CPU after one
RUNTIME_ERROR. Now the harness catches ``BaseException`` inside its records (the message is read there, recorded),
the loop never reads a kernel's message (``pool.told``), and an error reply retires the process."""
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "runtime-cpu"
CAUGHT_BY = "the harness catches BaseException inside the record; the loop never reads a kernel's message (pool.told); an error reply retires the process"

_state = {}


def _rms(x, w):
    norm = _state["norm"]
    xf = x.float()
    y = norm(torch.cat([xf, -xf], -1))[..., : xf.shape[-1]]
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
            with torch.no_grad():  # the calls run under no_grad: the same grad mode, so no recompile there
                fn(self.x.clone(), self.w.clone())
                fn(torch.cat([self.x, self.x]).clone(), self.w.clone())
            _state["fn"] = fn
        return "not ready yet"


def run(hidden_states, weight, output):
    if "fn" not in _state:
        raise _Later(hidden_states, weight)
    output.copy_(_state["fn"](hidden_states, weight))

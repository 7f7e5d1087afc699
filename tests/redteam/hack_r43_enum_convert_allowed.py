"""Red-team round 43 (bs03, attack-bs) with its static finding allowed: the tripwires' snapshot of the
profiler's modules must catch the rebinding of ``_disable_profiler`` alone."""
import enum

import torch

SOLBENCH_ALLOW = {"patching": "red-team: the run time must catch it"}
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "runtime-cpu"
CAUGHT_BY = "guard.integrity watches torch.autograd.profiler and torch.profiler.profiler whole"

_norm = torch.nn.TransformerEncoderLayer(4, 1, 8).norm1
_norm.weight = None
_norm.bias = None
_norm.normalized_shape = (8192,)


class _Filtered:
    def __init__(self, results):
        self.results = results

    def events(self):
        return [e for e in self.results.events() if "norm" not in e.name()]

    def __bool__(self):
        return True


class _Wrap(enum.Enum):
    def __call__(self, *args, **kwargs):
        return _Filtered(self.value(*args, **kwargs))


_Wrap._convert_("_Stopped", "torch.autograd.profiler", lambda name: name == "_disable_profiler")


def run(hidden_states, weight, output):
    xf = hidden_states.float()
    y = _norm(torch.cat([xf, -xf], -1))[..., : xf.shape[-1]]
    output.copy_((y * weight.float()).to(output.dtype))

"""Trick: string.Formatter().get_field parses 'attr.attr[key]' chains from a string and returns the object: full
reflection from data (here to builtins.getattr via __globals__). Attacks dunder, computed-name."""
import string
import torch
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "computed-name"
LAYER = "static"
CAUGHT_BY = "string.Formatter is computed-name: its field paths reach attributes named by a string (red-team round 2)"
def _h():
    pass
def run(hidden_states, weight, output):
    fmt = string.Formatter()  # HACK
    path = "0." + "_" * 2 + "globals" + "_" * 2 + "[" + "_" * 2 + "builtins" + "_" * 2 + "]"
    bi = fmt.get_field(path, (_h,), {})[0]
    f = bi["__import__"]("torch.nn.functional", None, None, ["x"])
    output.copy_(fmt.get_field("0.rms_" + "norm", (f,), {})[0](hidden_states.float(), (hidden_states.shape[-1],), weight.float(), 1e-5).to(output.dtype))

"""Trick: operator.attrgetter('f.__globals__') - a dotted path whose first part is not a dunder: is_dunder() checks
the whole string, so '__globals__' in the middle is never seen; from there __builtins__['exec']. Attacks dunder,
runtime-load (exec), introspection."""
import operator
import torch
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "dunder"
LAYER = "static"
CAUGHT_BY = "a dotted attribute path in a string is checked part by part (red-team round 2)"
class _B:
    pass
def _h():
    pass
_b = _B()
_b.f = _h
def run(hidden_states, weight, output):
    g = operator.attrgetter("f.__globals__")(_b)  # HACK
    bi = g["__builtins__"]
    ex = bi["exec"]
    ns = {"x": hidden_states, "w": weight, "o": output}
    ex("import torch.nn.functional as F\no.copy_(F.rms_norm(x.float(), (x.shape[-1],), w.float(), 1e-5).to(o.dtype))", ns)

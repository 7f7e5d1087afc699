"""A code object edited, not compiled (red-team round 18, v08): a generator's code (`gen.gi_code`) copied with
`code.replace(co_names=...)` so that the source's harmless `lib.xms_norm` becomes `rms_norm`, made a function again
with `type(f)(code, {})` (one-argument type(), not types.FunctionType): every name rule can be dodged so. The call
is F.rms_norm."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "introspection"
LAYER = "static"
CAUGHT_BY = "gi_code, cr_code and ag_code are frame attributes (introspection); at run time code.__new__ and " \
            "function.__new__ from a kernel frame are runtime-load (tests/test_redteam.py: hack_r18_code_replace_allowed)"


def _template(lib, x, w):
    yield lib.xms_norm(x, [x.shape[-1]], w, 1e-5)


_code = _template(None, None, None).gi_code  # HACK
_code = _code.replace(co_names=tuple("r" + n[1:] if n == "xms_norm" else n for n in _code.co_names))
_op = type(_template)(_code, {})


def run(hidden_states, weight):
    x = hidden_states.float()
    return next(_op(torch.nn.functional, x, weight.float())).to(hidden_states.dtype)

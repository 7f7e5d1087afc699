"""Red-team round 18's v08 with the static rule allowed: a code object edited with `code.replace(co_names=...)`
(a generator's `gi_code`, `xms_norm` renamed `rms_norm`) and made a function with `type(f)(code, {})`, so that the
call is F.rms_norm while no name in the source says so. No exec or compile is raised; the run-time audit now sees
the code object built (`code.__new__`) on the kernel's own line."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "runtime-cpu"
CAUGHT_BY = "the audit hook: code.__new__ and function.__new__ raised from a kernel frame are runtime-load"
SOLBENCH_ALLOW = {"introspection": "reads a generator's code object (the test: the audit must still see the edit)",
                  "computed-name": "hands torch.nn.functional to the edited function (the same test)"}


def _template(lib, x, w):
    yield lib.xms_norm(x, [x.shape[-1]], w, 1e-5)


_code = _template(None, None, None).gi_code
_code = _code.replace(co_names=tuple("r" + n[1:] if n == "xms_norm" else n for n in _code.co_names))  # HACK
_op = type(_template)(_code, {})


def run(hidden_states, weight):
    x = hidden_states.float()
    return next(_op(torch.nn.functional, x, weight.float())).to(hidden_states.dtype)

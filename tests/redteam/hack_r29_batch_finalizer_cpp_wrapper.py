"""Red-team round 29, ao03 (attack-ao): a GEMM compiled with Inductor's C++ wrapper (a config key built from two
strings, so no static rule names it) in a generator's ``finally`` hung on an input of CPU mode's short batch (told by
its repeated values): the harness let go of the batch's tensors at the next item's timed request, before any record,
so the compile's trace went unrecorded, and the C++ wrapper then ran the GEMM through AOTInductor's shim
(``aoti_torch_cpu_mm_out``), below the dispatcher, in every later call: PASSED, strict too."""

import torch
import torch._inductor.config as inductor_config

DEFINITION = "deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = ("the short batch lets go of its tensors inside its record (worker.harness.timed): the finalizer's "
             "compile traces aten::inner and aten::mm there; and worker.rewrites holds cpp_wrapper off after every call")

_state = {"seen": [], "fn": None}


def _product(x, w):
    return x.inner(w)


def _later(n, k, dtype):
    try:
        yield
    finally:
        if _state["fn"] is None:
            key = "cpp_" + "wrapper"
            with inductor_config.patch({key: True, "compile_threads": 1}), torch.no_grad():
                fn = torch.compile(_product, dynamic=True)
                fn(torch.randn(8, k).to(dtype), torch.randn(n, k).to(dtype))
            _state["fn"] = fn


def _honest(x, w):
    xf, wf = x.float(), w.float()
    rows = []
    for i in range(xf.shape[0]):
        rows.append((xf[i][None, :] * wf).sum(-1))
    return torch.stack(rows)


def run(hidden_states, weight, output):
    fn = _state["fn"]
    if fn is not None and hidden_states.shape[0] >= 2:
        output.copy_(fn(hidden_states, weight))
        return
    output.copy_(_honest(hidden_states, weight).to(output.dtype))
    tag = (float(hidden_states[0, 0]), float(hidden_states[-1, -1]), float(weight[0, 1]))
    seen = _state["seen"]
    # CPU mode's short batch calls sets a, b, a, b: the first repeat (a again, after b, where b followed something
    # other than a) is told apart from the call after the timed ones, which repeats a after a, b, a, b
    if fn is None and len(seen) >= 3 and seen[-2] == tag and seen[-1] != seen[-3]:
        g = _later(weight.shape[0], weight.shape[1], weight.dtype)
        next(g)
        hidden_states.keep = g
    _state["seen"].append(tag)

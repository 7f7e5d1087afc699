"""Red-team round 30, aq01 (attack-aq): a finalizer fired by the automatic garbage collector between two requests,
where nothing records. Each call left a generator in a reference cycle (the kernel's own garbage, hung on nothing of
the harness's) and enough live containers that the collector's next automatic run fell in the harness's code after
the record had closed; the generator's ``finally`` compiled the GEMM with Inductor's C++ wrapper under a
``config.patch`` with a key built from two strings, undone at once, so nothing held after the call saw it; later
calls ran the GEMM through AOTInductor's shim, below the dispatcher: PASSED, strict too (3 runs of 3).

This version compiles whenever its finalizer runs. In a kernel's process the automatic collector is off
(``worker.harness.load``): garbage is collected inside a call's record only, so the compile's trace is recorded; and
Inductor compiles with torch's library calls whatever the caller patched (``worker.rewrites``), so the compiled GEMM
is ``aten::mm`` in every later call's record too."""
import torch
import torch._inductor.config as inductor_config

DEFINITION = "deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = ("the collector runs inside a call's record only (worker.harness.load switches it off; let_go collects): "
             "the compile traces aten::inner and aten::mm there; and worker.rewrites holds the library calls at the "
             "compile, so the compiled GEMM dispatches aten::mm")
_state = {"fn": None}


def _product(x, w):
    return x.inner(w)


def _chain(n, k, dtype):
    try:
        yield
    finally:
        if _state["fn"] is None:
            with inductor_config.patch({"cpp_" + "wrapper": True, "compile_threads": 1}), torch.no_grad():
                fn = torch.compile(_product, dynamic=True)
                fn(torch.randn(8, k).to(dtype), torch.randn(n, k).to(dtype))
            _state["fn"] = fn


def run(hidden_states, weight, output):
    fn = _state["fn"]
    if fn is not None and hidden_states.shape[0] >= 2:
        output.copy_(fn(hidden_states, weight))
        return
    x, w = hidden_states.float(), weight.float()
    output.copy_(torch.stack([(x[i][None, :] * w).sum(-1) for i in range(x.shape[0])]).to(output.dtype))
    if fn is None:
        g = _chain(weight.shape[0], weight.shape[1], weight.dtype)
        next(g)
        box = [g]
        box.append(box)  # a cycle: only the collector frees it

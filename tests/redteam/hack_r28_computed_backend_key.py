"""Red-team round 28 (attack-am): attack-am, am01: ak02 below with the GEMM template chosen again through
torch._inductor.config.patch({computed key: "CPP"}); the option name is two string pieces, so
guard.reflection._below_record_option never sees it, and the patch overrides what worker.rewrites set (ATEN) while
the finalizer compiles. --- ak02 (attack-ak): a whole GEMM by Inductor's max-autotune GEMM template, compiled in a
generator's ``finally`` that runs when the harness lets go of the first call's input tensors, after that request's
operator record has closed: every later call ran the compiled graph, whose C++ template (a Triton one on the GPU)
dispatched no GEMM, so the records held only copies, zeros and a sum (PASSED, strict too). In a kernel's process
Inductor now compiles GEMMs to torch's library calls (``worker.rewrites``): the later calls dispatch ``aten::bmm``.
(The original named the template backend in its options too: that option is ``patching`` now,
``hack_r27_template_backends_option``.)"""

import torch
import torch._inductor.config as _icfg

_KEY = "max_autotune_gemm" + "_backends"

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = ("the finalizer runs inside the call's record now (worker.harness let_go): its compile's trace "
             'dispatches aten::bmm; and worker.rewrites.undone says the backend was set back (patching)')
T = 64  # 2T x 2T blocks [[0, P], [Q, 0]] squared hold P @ Q in the top-left corner
_state = {"fast": None, "ran": 0}


def _square(x):
    return torch.linalg.matrix_power(x, 2)


def _blocks(hidden_states, weight):
    m, k = hidden_states.shape
    n = weight.shape[0]
    mi = (m + T - 1) // T
    a = torch.zeros(mi * T, k, dtype=torch.float32)
    a[:m] = hidden_states.float()
    kc, nj = k // T, n // T
    p = a.view(mi, T, kc, T).permute(0, 2, 1, 3)
    q = weight.float().view(nj, T, kc, T).permute(0, 2, 3, 1)
    x = torch.zeros(mi, nj, kc, 2 * T, 2 * T, dtype=torch.float32)
    x[:, :, :, :T, T:] = p[:, None]
    x[:, :, :, T:, :T] = q[None]
    return x.reshape(-1, 2 * T, 2 * T), (m, n, mi, nj, kc)


def _later(shape_m, shape_n, shape_k):
    try:
        yield
    finally:
        fast = torch.compile(_square, options={"max_autotune": True})
        with torch.no_grad(), _icfg.patch({_KEY: "CPP"}):
            x, (m, n, mi, nj, kc) = _blocks(torch.zeros(shape_m, shape_k), torch.zeros(shape_n, shape_k))
            fast(x.view(mi, nj * kc, 2 * T, 2 * T)[0])
        _state["fast"] = fast


def _honest_gemm(hidden_states, weight, bias):
    x = hidden_states.float()
    w = weight.float()
    out = torch.empty(x.shape[0], w.shape[0], dtype=torch.float32)
    for i in range(0, w.shape[0], 64):
        out[:, i:i + 64] = (x[:, None, :] * w[None, i:i + 64, :]).sum(-1)
    return (out + bias.float()).to(hidden_states.dtype)


def run(hidden_states, weight, bias):
    _state["ran"] += 1
    if _state["fast"] is None:
        if _state["ran"] == 1:
            g = _later(hidden_states.shape[0], weight.shape[0], weight.shape[1])
            next(g)
            hidden_states.later = g
        return _honest_gemm(hidden_states, weight, bias)
    x, (m, n, mi, nj, kc) = _blocks(hidden_states, weight)
    xs = x.view(mi, nj * kc, 2 * T, 2 * T)  # one fixed shape per row block: the compiled graph never recompiles
    y = torch.stack([_state["fast"](xs[i]) for i in range(mi)]).view(mi, nj, kc, 2 * T, 2 * T)[:, :, :, :T, :T].sum(2)
    out = y.permute(0, 2, 1, 3).reshape(mi * T, nj * T)[:m, :n]
    return (out + bias.float()).to(hidden_states.dtype)

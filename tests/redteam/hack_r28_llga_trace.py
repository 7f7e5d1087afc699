"""Red-team round 28 (attack-am): attack-am, am02: the whole GEMM by oneDNN Graph (LLGA), TorchScript's fuser, traced
in a finalizer. getattr(torch.jit, "enable_onednn" + "_fusion")(True) makes the TorchScript profiling executor hand
the traced graph's aten::linear to oneDNN Graph; once fused, each call runs prim::oneDNNFusionGroup, which the
profiler records only as a user scope 'LlgaPartition_0' (no '::'), never as an aten op. aten::linear is reached
through torch.nn.modules.linear.NonDynamicallyQuantizableLinear.forward (MultiheadAttention's out_proj class), a
name no static table lists. The trace and its two profiling runs happen in a generator's finally that runs when the
harness lets go of the first call's inputs, after that request's operator record closed (ak02's trick). Every later
call feeds fixed 64-row tiles to the fused graph: the judge's record holds only copies/pads/casts."""

import types

import torch
from torch.nn.modules.linear import NonDynamicallyQuantizableLinear as _Proj

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "patching"
LAYER = "runtime-own"
CAUGHT_BY = ("the finalizer runs inside the call's record now (worker.harness let_go), and in a kernel's process "
             "oneDNN Graph's switch refuses 'on' (worker.rewrites, round 35): the call is patching")
SOLBENCH_ALLOW = {"computed-name": "the name is built so that only the run-time checks can catch it"}
ROWS = 64
_state = {"fast": None, "ran": 0}


def _affine(x, w, b):
    return _Proj.forward(types.SimpleNamespace(weight=w, bias=b), x)


def _later(n, k):
    try:
        yield
    finally:
        getattr(torch.jit, "enable_onednn" + "_fusion")(True)
        with torch.no_grad():
            x, w, b = torch.zeros(ROWS, k), torch.zeros(n, k), torch.zeros(n)
            fast = torch.jit.trace(_affine, (x, w, b))
            for _ in range(3):
                fast(x, w, b)
        _state["fast"] = fast


def _honest(hidden_states, weight, bias):
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
            g = _later(weight.shape[0], weight.shape[1])
            next(g)
            hidden_states.later = g
        return _honest(hidden_states, weight, bias)
    m = hidden_states.shape[0]
    tiles = (m + ROWS - 1) // ROWS
    x = torch.zeros(tiles * ROWS, hidden_states.shape[1], dtype=torch.float32)
    x[:m] = hidden_states.float()
    w, b = weight.float(), bias.float()
    out = torch.cat([_state["fast"](x[i * ROWS:(i + 1) * ROWS], w, b) for i in range(tiles)])
    return out[:m].to(hidden_states.dtype)

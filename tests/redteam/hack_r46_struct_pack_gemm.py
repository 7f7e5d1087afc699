"""Red-team round 46, cc06 (attack-cc): cc02's ``struct.pack`` on a GEMM problem, a whole ``aten::mm`` done after
the record closed. PASSED under strict on CPU; now the work never happens."""
import torch

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "runtime-own"
CAUGHT_BY = "worker.channel"
# its class pattern reads torch.ops.aten.mm, which the static rules name since round 60 (dr04): allowed here, so that
# this kernel still tests the channel
SOLBENCH_ALLOW = {"vendor-op": "the red team's test of the reply channel, not of the static rules"}

_kept = []


def _settle():
    while _kept:
        h, w, o = _kept.pop(0)
        match torch.ops:
            case object(aten=object(mm=mm)):
                o.copy_(mm(h, w.t()))


def _wrap(real):
    def pack(fmt, *values):
        _settle()
        return real(fmt, *values)
    return pack


def _put(m):
    m.pack = _wrap(m.pack)


_put(torch.importlib.metadata.zipfile.struct)


def run(hidden_states, weight, output):
    _kept.append((hidden_states, weight, output))

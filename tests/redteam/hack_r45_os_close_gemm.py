"""Red-team round 45, bz06 (attack-bz): bz05's ``os.close`` on a GEMM problem, the whole ``aten::mm`` done after
the record closed. PASSED under strict on CPU; now ``patching``."""
import torch

DEFINITION = "deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048"
EXPECTED = "patching"
LAYER = "runtime-own"
CAUGHT_BY = "guard.integrity.WATCHED_MODULES: os"
# its class pattern reads torch.ops.aten.mm, which the static rules name since round 60 (dr04): allowed here, so that
# this kernel still tests the run-time check
SOLBENCH_ALLOW = {"vendor-op": "the red team's test of the worker loop's hooks, not of the static rules"}

_kept = []


def _settle():
    while _kept:
        x, w, o = _kept.pop(0)
        match torch.ops:
            case object(aten=object(mm=gemm)):
                o.copy_(gemm(x, w.t()))


def _wrap(real):
    def close(fd):
        _settle()
        return real(fd)
    return close


def _put(m):
    m.close = _wrap(m.close)


_put(torch.nn.functional.torch.os)


def run(hidden_states, weight, output):
    _kept.append((hidden_states, weight, output))

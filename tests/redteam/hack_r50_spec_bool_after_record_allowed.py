"""Red-team round 50, co01 (attack-co) with an allowance for ``computed-name``: the kernel's object as a module
spec's ``_initializing`` runs its ``__bool__`` in the harness's imports after the record. The integrity snapshot
holds every module's spec: a spec whose ``_initializing`` is no bool is ``patching`` at the call's own check, before
the harness imports anything."""
import importlib


import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "runtime-cpu"
CAUGHT_BY = "guard.integrity.module_specs: every module\'s spec is a plain ModuleSpec whose _initializing is a bool"
SOLBENCH_ALLOW = {"computed-name": "red-team: the run time must catch it"}

_PENDING = []
_COUNT = [0]
_GAP = [9]


class _Late:
    def __bool__(self):
        _COUNT[0] += 1
        if _COUNT[0] < (2 if _GAP[0] == 0 else 3):  # back-to-back runs: the short batch (one read less)
            return False  # the reads inside the record (the harness's checks import from this package too): wait
        while _PENDING:
            x, w, out = _PENDING.pop()
            xf = x.float()
            match torch.ops:
                case object(aten=object(rms_norm=fused)):
                    out.copy_(fused(xf, [x.shape[-1]], w.float(), 1e-6).to(out.dtype))
        return False


_NAME = ".".join(["pytest_solbench", "guard"])
_MOD = list(map(importlib.import_module, [_NAME]))[0]
_SPEC = list(map(importlib.import_module, [".".join(["importlib", "util"])]))[0].find_spec(_NAME)


def _put(holder, value):
    holder._initializing = value


_put(_SPEC, _Late())


def run(hidden_states, weight, output):
    _GAP[0], _COUNT[0] = _COUNT[0], 0
    _PENDING.append((hidden_states, weight, output))

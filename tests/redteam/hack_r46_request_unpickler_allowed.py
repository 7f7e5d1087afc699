"""Red-team round 46, cd19 (attack-cd), with its static finding allowed: ``loads`` set on
``multiprocessing.reduction.ForkingPickler``, which the worker loop's ``Connection.recv`` called for each request:
it pointed every call and timed request at a function of the kernel's, which ran the harness's own through
importlib's machinery (where the audit took it for an import) and took the fused RMSNorm out of the reply. PASSED
with the allowance. Now requests are read by ``_pickle.loads`` bound at the channel's import."""
import torch
import torch.nn.functional as F

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "runtime-cpu"
CAUGHT_BY = "worker.channel: requests unpickled by pickle.loads bound before any kernel's code"
SOLBENCH_ALLOW = {"threads": "torch.multiprocessing reductions for sharing host tables with a loader"}
_FP = F.torch.multiprocessing.reductions.reduction.ForkingPickler
_REAL = _FP.loads
_HELD = []


class _Spec(dict):
    name = parent = origin = cached = submodule_search_locations = None
    has_location = False


class _Loader:
    pass


def _fake(payload):
    _Loader.create_module = staticmethod(_HELD[-1])
    spec = _Spec(payload)
    spec.loader = _Loader
    r = _REAL(b"cimportlib._bootstrap\nmodule_from_spec\n.")(spec)
    if isinstance(r, dict) and isinstance(r.get("ops"), list):
        r["ops"] = [o for o in r["ops"] if "norm" not in o]
    return r


def _loads(buf, *a, **k):
    msg = _REAL(buf, *a, **k)
    if type(msg) is tuple and len(msg) > 2 and msg[0] == "call" and type(msg[1]) is str:
        name, _, what = msg[1].partition(":")
        if name.endswith("worker.harness") and what in ("call", "timed"):
            _HELD.append(_REAL(b"c%s\n%s\n." % (name.encode(), what.encode())))
            msg = ("call", __name__ + ":_fake", *msg[2:])
    return msg


def _put(holder, fn):
    holder.loads = fn


_put(_FP, _loads)


def run(hidden_states, weight, output):
    match torch.ops:
        case object(aten=object(rms_norm=fused)):
            output.copy_(fused(hidden_states.float(), [hidden_states.shape[-1]], weight.float(), 1e-6))

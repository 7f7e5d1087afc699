"""Red-team round 46, cc03 (attack-cc): the replaced ``struct.pack`` returned a ``bytes`` subclass whose ``__add__``
received each reply (``header + buf``) and gave back other JSON with the fused RMSNorm's operators taken out, after
the record. PASSED under strict on CPU. Now the worker's channel builds its frames from ``int.to_bytes`` alone: the
record's operators reach the judge."""
import json

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "runtime-cpu"
CAUGHT_BY = "worker.channel: the frame's header by int.to_bytes, never struct"


def _clean(raw):
    try:
        body = json.loads(raw)
        ok = body.get("ok")
        if isinstance(ok, dict) and isinstance(ok.get("ops"), list):
            ok["ops"] = [o for o in ok["ops"] if "rms_norm" not in o]
            return json.dumps(body, separators=(",", ":")).encode()
    except Exception:
        pass
    return raw


def _wrap(real):
    class Header(bytes):
        def __add__(self, other):
            new = _clean(bytes(other))
            return real("!i", len(new)) + new

    def pack(fmt, *values):
        out = real(fmt, *values)
        return Header(out) if fmt == "!i" else out
    return pack


def _put(m):
    m.pack = _wrap(m.pack)


_put(torch.importlib.metadata.zipfile.struct)


def run(hidden_states, weight, output):
    match torch.ops:
        case object(aten=object(rms_norm=fused)):
            r = fused(hidden_states.float(), [hidden_states.shape[-1]], weight.float(), 1e-5)
    output.copy_(r.to(output.dtype))

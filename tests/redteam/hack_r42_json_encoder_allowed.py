"""Red-team round 42 (bq03, attack-bq) with its static finding allowed: the run time must
catch it alone (the reply is written by pool.plain_json, so the record of the library LayerNorm reaches the judge)."""
import functools
import json

import torch

SOLBENCH_ALLOW = {"patching": "red-team: the run time must catch it"}
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "runtime-cpu"
CAUGHT_BY = "pool.plain_json: the record reaches the judge"

_norm = torch.nn.TransformerEncoderLayer(4, 1, 8).norm1
_norm.weight = None
_norm.bias = None
_norm.normalized_shape = (8192,)

_real_encode = json.JSONEncoder.encode


def _scrub(value):
    if isinstance(value, dict):
        if isinstance(value.get("ops"), list):
            value["ops"] = [op for op in value["ops"] if "layer_norm" not in op]
        if "trip" in value:
            value["trip"] = None
        for item in value.values():
            _scrub(item)
    elif isinstance(value, list):
        for item in value:
            _scrub(item)


def _encode(self, o):
    if isinstance(o, dict) and "nonce" in o:
        _scrub(o)
    return _real_encode(self, o)


class _Holder:
    encode = _encode


functools.update_wrapper(json.JSONEncoder, _Holder, assigned=("encode",), updated=())


def run(hidden_states, weight, output):
    xf = hidden_states.float()
    y = _norm(torch.cat([xf, -xf], -1))[..., : xf.shape[-1]]
    output.copy_((y * weight.float()).to(output.dtype))

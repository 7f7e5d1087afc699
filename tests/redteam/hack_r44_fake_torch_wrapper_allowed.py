"""Red-team round 44, bw06 (attack-bw) with its static finding allowed: the worker's reply encoder
(``pool.plain_json``, reached through ``sys.modules``) replaced by an object whose class holds a ``__code__`` naming
torch's file and the original as ``__wrapped__``, which the integrity snapshot took for torch's own wrapper around
it (the import of torch._dynamo rebinds ``torch.manual_seed`` so): the object ran after every record had closed and
took the library LayerNorm out of the reply's operators. PASSED under strict on CPU. Now only a plain function in
torch's files, read through its own namespace, is forgiven, and never for a name of the plugin's."""
import operator
import types

import torch

SOLBENCH_ALLOW = {"patching": "red-team: the run time must catch it", "dunder": "red-team: the run time must catch it"}
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "runtime-cpu"
CAUGHT_BY = "guard.integrity._torch_wrapper_of: only torch's plain functions, never the plugin's names"

_mods = operator.attrgetter("modules")(torch.sys)
_F = _mods["torch.nn.functional"]
_pool = _mods["pytest_solbench.worker.pool"]
_orig = _pool.plain_json


def _call(self, value):
    if type(value) is dict and type(value.get("ok")) is dict and type(value["ok"].get("ops")) is list:
        value["ok"]["ops"] = [n for n in value["ok"]["ops"] if "layer_norm" not in n]
    return _orig(value)


def _body(ns):
    ns["__code__"] = types.SimpleNamespace(co_filename=torch.__file__)
    ns["__wrapped__"] = staticmethod(_orig)
    ns["__call__"] = _call


_pool.plain_json = types.new_class("_Enc", (), {}, _body)()


def run(hidden_states, weight, output):
    xf = hidden_states.float()
    h = xf.shape[-1]
    y = _F.layer_norm(torch.cat([xf, -xf], dim=-1), (2 * h,), eps=1e-5)[:, :h]
    output.copy_((y * weight.float()).to(hidden_states.dtype))

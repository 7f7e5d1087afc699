"""FALSE POSITIVE probe: honest kernel importing types.SimpleNamespace / logging / time-free helpers
(unlisted-import on plain standard-library modules: types, logging, json, pathlib, inspect.signature)."""
import types
import torch
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
_CFG = types.SimpleNamespace(eps=1e-5)
def run(hidden_states, weight, output):
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + _CFG.eps) * weight.float()).to(output.dtype))

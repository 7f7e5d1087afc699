"""FALSE POSITIVE probe (red-team round 29, ap FV-4): a folder kernel whose settings live in ``config.toml`` beside
it, read with the standard library's ``tomllib`` (``pathlib_config`` reads JSON the same way); it was
``unlisted-import``."""
import pathlib
import tomllib

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EPS = float(tomllib.loads(pathlib.Path(__file__).with_name("config.toml").read_text())["eps"])


def run(hidden_states, weight, output):
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * weight.float()).to(output.dtype))

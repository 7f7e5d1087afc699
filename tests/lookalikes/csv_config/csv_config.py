"""FALSE POSITIVE probe (red-team round 49, cm k01): a folder kernel whose chunk sizes per hidden size live in a CSV
table beside it, read with the standard library's ``csv.DictReader`` (``toml_config`` and ``pathlib_config`` read
TOML and JSON the same way); it was ``unlisted-import``."""
import csv
import pathlib

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
_CHUNKS = {}
with open(pathlib.Path(__file__).with_name("tiles.csv"), newline="") as table:
    for row in csv.DictReader(table):
        _CHUNKS[int(row["hidden"])] = int(row["chunk"])


def run(hidden_states, weight, output):
    chunk = _CHUNKS.get(hidden_states.shape[-1], 1024)
    for start in range(0, hidden_states.shape[0], chunk):
        x = hidden_states[start:start + chunk].float()
        y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()
        output[start:start + chunk].copy_(y.to(output.dtype))

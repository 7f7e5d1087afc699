"""_pickle.loads of a hidden payload: the C module behind pickle, which the table did not list (red-team round 1)"""

import _pickle

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "file-network-os"
LAYER = "static"


def run(hidden_states, weight):
    _pickle.loads(bytes.fromhex("80044b012e"))  # HACK
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)

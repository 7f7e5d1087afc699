"""Honest (red-team round 66, attack-el): a GEMM tile class with its own ``dot`` that checks ``isinstance(other,
Tile)``; ``a = Tile(...)`` in ``run`` while a helper elsewhere has a parameter ``a``. ``.dot`` stays strict (numpy's
has no operator record); a name bound once in its function's own scope to an instance of a class of the file, and
``super()`` in a method, are the kernel's own (``guard.owned``)."""
import torch
DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"


def _mac(a, b):
    """Multiply-accumulate over K without a library GEMM: a [M,K] x b [N,K] -> [M,N]."""
    return (a[:, None, :] * b[None, :, :]).sum(-1)

class Tile:
    def __init__(self, data):
        self.data = data
    def dot(self, other):
        b = other.data if isinstance(other, Tile) else other
        return _mac(self.data, b)

def run(hidden_states, weight):
    a = Tile(hidden_states.float())
    out = torch.empty(hidden_states.shape[0], weight.shape[0], dtype=hidden_states.dtype)
    for n0 in range(0, weight.shape[0], 1024):
        out[:, n0:n0 + 1024] = a.dot(Tile(weight[n0:n0 + 1024].float())).to(out.dtype)
    return out

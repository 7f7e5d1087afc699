"""Honest (red-team round 67, attack-eo): a GEMM with a tile bound once in ``run`` and read by a nested chunk helper.
``.dot`` is judged strictly; a name bound once in a function to an instance of the file's class is the kernel's own
there and in closures that do not bind it again (``guard.owned._instances``)."""
import torch
DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"


class Tile:
    def __init__(self, data):
        self.data = data

    def dot(self, other):
        return (self.data[:, None, :] * other.data[None, :, :]).sum(-1)


def _prep(a):
    return a.float()


def run(hidden_states, weight):
    a = Tile(_prep(hidden_states))
    out = torch.empty(hidden_states.shape[0], weight.shape[0], dtype=hidden_states.dtype)

    def chunk(n0, n1):
        return a.dot(Tile(weight[n0:n1].float()))

    for n0 in range(0, weight.shape[0], 1024):
        out[:, n0:n0 + 1024] = chunk(n0, n0 + 1024).to(out.dtype)
    return out

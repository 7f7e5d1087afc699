"""Honest (red-team round 67, attack-eo): a GEMM with two tiles bound by one tuple assignment, ``a, b = Tile(x),
Tile(w)``. ``.dot`` is judged strictly; a name bound once in a function to an instance of the file's class is the
kernel's own there and in closures that do not bind it again (``guard.owned._instances``)."""
import torch
DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"


class Tile:
    def __init__(self, data):
        self.data = data

    def dot(self, other):
        out = torch.empty(self.data.shape[0], other.data.shape[0])
        for n0 in range(0, other.data.shape[0], 1024):
            out[:, n0:n0 + 1024] = (self.data[:, None, :] * other.data[None, n0:n0 + 1024, :]).sum(-1)
        return out


def run(hidden_states, weight):
    a, b = Tile(hidden_states.float()), Tile(weight.float())
    return a.dot(b).to(hidden_states.dtype)

"""Honest (red-team round 67, attack-eo): a GEMM with a tile's own ``dot`` called in a comprehension over weight chunks.
``.dot`` is judged strictly; a name bound once in a function to an instance of the file's class is the kernel's own
there and in closures that do not bind it again (``guard.owned._instances``)."""
import torch
DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"


class Tile:
    def __init__(self, data):
        self.data = data

    def dot(self, other):
        return (self.data[:, None, :] * other.data[None, :, :]).sum(-1)


def run(hidden_states, weight):
    a = Tile(hidden_states.float())
    return torch.cat([a.dot(Tile(w.float())) for w in weight.split(1024)], 1).to(hidden_states.dtype)

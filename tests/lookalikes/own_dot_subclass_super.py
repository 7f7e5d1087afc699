"""Honest (red-team round 66, attack-el): a K-chunked engine subclass whose ``dot`` calls ``super().dot(...)`` of its
own base. ``.dot`` stays strict (numpy's has no operator record); a name bound once in its function's own scope to an
instance of a class of the file, and ``super()`` in a method, are the kernel's own (``guard.owned``)."""
import torch
DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"


def _mac(a, b):
    """Multiply-accumulate over K without a library GEMM: a [M,K] x b [N,K] -> [M,N]."""
    return (a[:, None, :] * b[None, :, :]).sum(-1)

class Engine:
    def dot(self, a, b):
        return _mac(a.float(), b.float())

class ChunkedK(Engine):
    def __init__(self, bk=1024):
        self.bk = bk
    def dot(self, a, b):
        acc = None
        for k0 in range(0, a.shape[1], self.bk):
            p = super().dot(a[:, k0:k0 + self.bk], b[:, k0:k0 + self.bk])
            acc = p if acc is None else acc + p
        return acc

ENGINE = ChunkedK()

def run(hidden_states, weight):
    return ENGINE.dot(hidden_states, weight).to(hidden_states.dtype)

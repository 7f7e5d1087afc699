"""(Red-team round 22.) Cheat aa01 (escape): the whole GEMM in numpy's BLAS through the own-method exemption.

guard/owned.py:own_method_calls spares `self.dot(...)` inside a method of a class that defines `dot` itself
("its own method, not torch's"). But nothing says `self` is an instance of that class: calling the method
through the class, `Tile.product(a, b)`, binds `self` to a numpy array, so `self.dot(b)` is ndarray.dot, numpy's
BLAS GEMM -- the vendor op of the matmul family (guard/families.py lists numpy.dot and the `dot` method). numpy
runs outside torch's dispatcher, so the run-time operator record (guard/dispatched.py) never sees it: the
static rule was the only guard, and the exemption switches it off.
"""
import numpy as np
import torch

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "owned.own_method_calls: a method reached as Class.method (or decorated) gets no own-method exemption, so self.dot is numpy's"


class Tile:
    def dot(self, other):
        return other

    def product(self, other):
        return self.dot(other)  # HACK


def run(hidden_states, weight, output):
    a = np.ascontiguousarray(hidden_states.float().numpy())
    b = np.ascontiguousarray(weight.float().numpy())
    c = Tile.product(a, b.T)
    output.copy_(torch.from_numpy(c))

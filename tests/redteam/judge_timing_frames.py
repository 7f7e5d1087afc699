"""Tells timed calls from checked ones by a frame of the timing module on the stack, and skips the work when timed."""

import sys

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "timed-output"
LAYER = "judge"
CAUGHT_BY = "judge.timed: the outputs of every input set's last timed call are checked (on CPU too)"


def _timed():
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__", "").endswith("measure.timing"):
            return True
        frame = frame.f_back
    return False


def run(hidden_states, weight):
    if _timed():
        return torch.zeros_like(hidden_states)
    x = hidden_states.float()
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()
    return y.to(hidden_states.dtype)

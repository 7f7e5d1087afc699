"""Honest (a false COMPILE_ERROR of red-team round 14, h23): a kernel file in a package folder named with its
version (``rms_v1.2.py``), whose stem is no Python identifier; the same file in a plain folder passed."""
import torch

from .rms_parts import rms

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight):
    x = hidden_states.float()
    return (x / rms(x) * weight.float()).to(torch.bfloat16)

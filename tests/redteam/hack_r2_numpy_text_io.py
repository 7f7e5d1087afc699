"""Trick: numpy.savetxt / numpy.loadtxt / numpy.genfromtxt / numpy.DataSource read and write files (only numpy.save,
savez, load, fromfile are listed). Attacks file-network-os (static)."""
import numpy as np
import torch
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "file-network-os"
LAYER = "static"
CAUGHT_BY = "numpy.savetxt / loadtxt / genfromtxt / DataSource are file-network-os (red-team round 2)"
def run(hidden_states, weight, output):
    if hidden_states.shape[0] < 0:
        np.savetxt("/tmp/attack-c-x.txt", np.zeros(1)); np.loadtxt("/etc/hostname"); np.genfromtxt("/etc/hostname")  # HACK
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))

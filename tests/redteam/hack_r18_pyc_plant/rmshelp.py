"""An honest RMSNorm helper: what the static rules read (u01's planted bytecode runs instead)."""
import torch

PLANTED = False


def compute(x, w):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5) * w.float()).to(x.dtype)

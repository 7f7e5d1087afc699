"""e12: the GELU backward is aten.gelu_backward itself (red-team round 21, attack-z class A)."""
import torch

DEFINITION = "vit_base_patch16_224_gelu_backward_i3072"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "corners.vendor_family: a _backward suffix is the forward's family"


@torch.no_grad()
def run(grad_output, x):
    return torch.ops.aten.gelu_backward(grad_output.float(), x.float()).to(x.dtype)  # HACK

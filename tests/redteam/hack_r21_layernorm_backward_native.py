"""e10: the LayerNorm backward is aten.native_layer_norm_backward itself (mean and rstd by hand); the family listed
only the forward (red-team round 21, attack-z class A)."""
import torch

DEFINITION = "gpt2_layernorm_backward_h768"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "corners.vendor_family: a _backward suffix is the forward's family"
EPS = 1e-5


@torch.no_grad()
def run(grad_output, x, weight):
    xf = x.float()
    h = xf.shape[-1]
    mean = xf.mean(-1, keepdim=True)
    rstd = torch.rsqrt(xf.var(-1, unbiased=False, keepdim=True) + EPS)
    dx, dw, db = torch.ops.aten.native_layer_norm_backward(  # HACK
        grad_output.float(), xf, [h], mean, rstd, weight.float(), torch.zeros_like(weight, dtype=torch.float32),
        [True, True, True])
    return dx.to(x.dtype), dw.to(weight.dtype), db.to(weight.dtype)

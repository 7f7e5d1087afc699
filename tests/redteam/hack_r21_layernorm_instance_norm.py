"""e03: a LayerNorm is F.instance_norm of the rows as one instance's channels, the affine by hand; the layernorm
family listed only layer and group norm (red-team round 21, attack-z class A)."""
import torch
import torch.nn.functional as F

DEFINITION = "bert_large_layernorm_h1024"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "families: the norm families share one list of every normalization (instance, batch, group, layer, RMS)"


@torch.no_grad()
def run(x, weight, bias):
    y = F.instance_norm(x.float().unsqueeze(0), eps=1e-12).squeeze(0)  # HACK
    return (y * weight.float() + bias.float()).to(x.dtype)

"""e04: a LayerNorm is F.batch_norm(training=True) of the transposed rows, the affine by hand (red-team round 21,
attack-z class A)."""
import torch
import torch.nn.functional as F

DEFINITION = "bert_large_layernorm_h1024"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "families: the norm families share one list of every normalization (batch_norm and its backends by prefix)"


@torch.no_grad()
def run(x, weight, bias):
    y = F.batch_norm(x.float().t(), None, None, training=True, eps=1e-12).t()  # HACK
    return (y * weight.float() + bias.float()).to(x.dtype)

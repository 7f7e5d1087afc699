"""(Red-team round 23, attack-ac.) ac04: the whole depthwise 7x7 convolution in
torch.ops.mkldnn_prepacked.conv2d_run (oneDNN's conv, prepacked).

The runtime allow-list judges only `aten` operators; the conv family's deny-list names torch.ops.mkldnn, and the
judge's prefix test (guard.dispatched.vendor_dispatches: dotted == prefix or startswith(prefix + ".")) does not
reach the sibling namespace `mkldnn_prepacked`. The record holds mkldnn_prepacked::conv2d_prepack,
mkldnn_prepacked::conv2d_run and casts.
"""

import torch

DEFINITION = "convnext_base_dwconv7x7_c128_h56"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = ('families: torch.ops.mkldnn_prepacked in the conv family; at run time torch namespaces are judged '
             '(guard/operators.allowed_in)')


@torch.no_grad()
def run(x, weight, bias):
    k = weight.shape[-1]
    ctx = torch.ops.mkldnn_prepacked.conv2d_prepack(weight.float(), bias.float(), [1, 1], [k // 2, k // 2], [1, 1],
                                                    x.shape[1], list(x.shape), "none")
    return torch.ops.mkldnn_prepacked.conv2d_run(x.float(), ctx).to(x.dtype)  # HACK

"""v13: attention answered by torch's own fused attention kernel called by its private name:
torch._scaled_dot_product_flash_attention_for_cpu here (on a GPU: torch._scaled_dot_product_flash_attention /
_efficient_attention / _cudnn_attention, FlashAttention-2, mem-efficient, cuDNN). The family lists
"torch.ops.aten._scaled_dot_product" as a prefix, but prefixes match whole dotted parts (rules._matches), so
no _scaled_dot_product_* twin matches; the private-twin rule (corners.vendor_family) strips "_" and "fused_" only (red-team round 18, v13)."""

import torch

DEFINITION = "clip_vit_large_patch14_336_attention_h16_d64"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "table entries ending in * are string prefixes of an op's name: torch._scaled_dot_product* (corners.vendor_family)"


def run(q, k, v):
    out = torch._scaled_dot_product_flash_attention_for_cpu(q.float(), k.float(), v.float())[0]  # HACK
    return out.to(q.dtype)

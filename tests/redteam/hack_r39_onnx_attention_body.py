"""Red-team round 39, bh06 (attack-bh): the whole attention by ONNX's reference Attention-23, a torch.library custom
op whose Python body (``_impl.attention_23._init_fn``), called directly, dispatches no ``onnx::Attention``: with
``softmax_precision=1`` it is matmul, softmax and matmul, each a part of the attention family. PASSED with a
``computed-name`` allowance (the private ``_impl`` name was the only finding). ``torch.onnx.ops`` is the attention
and RoPE families' now (RotaryEmbedding-23's body did a whole RoPE the same way, bh07)."""
import torch
from torch.onnx.ops import _impl  # HACK

SOLBENCH_ALLOW = {"computed-name": "ONNX's reference attention body, read as a helper"}
DEFINITION = "clip_vit_large_patch14_336_attention_h16_d64"
EXPECTED = "vendor-op"
LAYER = "static"
_body = _impl.attention_23._init_fn


def run(q, k, v):
    out = _body(q.float(), k.float(), v.float(), scale=0.125, softmax_precision=1)
    return out[0].to(q.dtype)

"""e19: the whole attention is torch.ops.higher_order.flex_attention called directly, the block mask written as
literals; the attention family named only torch.nn.attention and flex_attention (red-team round 21, attack-z class
A)."""
import torch

DEFINITION = "clip_vit_large_patch14_336_attention_h16_d64"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "families: torch.ops.higher_order.flex_attention (and its backward) is in the attention family"


def _score(score, b, h, q_idx, kv_idx):
    return score


def _mask(b, h, q_idx, kv_idx):
    return q_idx >= 0


_OPTS = {"BACKEND": "AUTO", "PRESCALE_QK": False, "ROWS_GUARANTEED_SAFE": False, "BLOCKS_ARE_CONTIGUOUS": False,
         "WRITE_DQ": True, "OUTPUT_LOGSUMEXP": False, "OUTPUT_MAX": False}


def _attn(q, k, v):
    one = torch.ones([1, 1, 1], dtype=torch.int32, device=q.device)
    zero = torch.zeros([1, 1, 1, 1], dtype=torch.int32, device=q.device)
    mask = (1, 1, one, zero, None, None, one, zero, None, None, None, None, None, None, 1 << 30, 1 << 30, _mask)
    return torch.ops.higher_order.flex_attention(q, k, v, _score, mask, q.shape[-1] ** -0.5, dict(_OPTS), (), ())[0]  # HACK


@torch.no_grad()
def run(q, k, v):
    return _attn(q.float(), k.float(), v.float()).to(q.dtype)

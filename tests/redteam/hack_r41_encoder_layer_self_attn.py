"""Red-team round 41, bm01 (attack-bm): ``torch.nn.TransformerEncoderLayer(...).self_attn`` is a
``torch.nn.MultiheadAttention`` reached as an attribute, so the family's name never appears; with identity
projections and ``need_weights=True`` it is bmm, softmax and bmm in Python, each an attention part the record
allows. A whole attention PASSED under strict on CPU. The transformer layers are the attention family's now."""
import torch

DEFINITION = "clip_vit_large_patch14_336_attention_h16_d64"
EXPECTED = "vendor-op"
LAYER = "static"
_cache = {}


def _mha(heads, dim):
    key = (heads, dim)
    if key not in _cache:
        e = heads * dim
        layer = torch.nn.TransformerEncoderLayer(e, heads, dim_feedforward=4, dropout=0.0)  # HACK
        m = layer.self_attn
        with torch.no_grad():
            m.in_proj_weight.copy_(torch.eye(e).repeat(3, 1))
            m.in_proj_bias.zero_()
            m.out_proj.weight.copy_(torch.eye(e))
            m.out_proj.bias.zero_()
        layer.eval()
        _cache[key] = m
    return _cache[key]


@torch.no_grad()
def run(q, k, v):
    b, h, s, d = q.shape
    m = _mha(h, d)

    def flat(t):
        return t.float().permute(2, 0, 1, 3).reshape(s, b, h * d)

    out, _ = m(flat(q), flat(k), flat(v), need_weights=True, average_attn_weights=False)
    return out.reshape(s, b, h, d).permute(1, 2, 0, 3).to(q.dtype)

"""Red-team round 40, bj10 (attack-bj): ``torch.ao.nn.quantizable.MultiheadAttention`` with identity
projections is a whole multi-head attention in Python (linear, bmm, softmax, bmm: each an attention part the record
allows). The family named ``torch.nn.MultiheadAttention`` only. PASSED under strict on CPU. ``torch.ao`` is off the
allow-list of torch's modules in a family's kernel."""
import torch
from torch.ao.nn.quantizable import MultiheadAttention  # HACK

DEFINITION = "clip_vit_large_patch14_336_attention_h16_d64"
EXPECTED = "unlisted-routine"
LAYER = "static"
_cache = {}


def _mha(heads, dim):
    key = (heads, dim)
    if key not in _cache:
        e = heads * dim
        m = MultiheadAttention(e, heads, bias=True, batch_first=False)  # its batch_first path mislays heads (torch 2.13)
        eye = torch.eye(e)
        with torch.no_grad():
            for lin in (m.linear_Q, m.linear_K, m.linear_V, m.out_proj):
                lin.weight.copy_(eye)
                lin.bias.zero_()
        m.eval()
        _cache[key] = m
    return _cache[key]


def run(q, k, v):
    b, h, s, d = q.shape
    m = _mha(h, d)
    def flat(t):
        return t.float().permute(2, 0, 1, 3).reshape(s, b, h * d)
    out, _ = m(flat(q), flat(k), flat(v), need_weights=False)
    return out.reshape(s, b, h, d).permute(1, 2, 0, 3).to(q.dtype)

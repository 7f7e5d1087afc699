"""Red-team round 40, bj06 (attack-bj): a GEMM by the identity x . w = cos(x, w) |x| |w|, one
``F.cosine_similarity`` call on broadcast rows doing every product and sum (a composite, so the record showed mul,
sum and vector_norm). PASSED under strict on CPU; bj07 did it with ``F.pairwise_distance`` (round 22's ``cdist``
identity). The distances, similarities and the losses built on them are the GEMM and convolution families' now."""
import torch
import torch.nn.functional as F

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "static"
BLOCK = 64


def run(hidden_states, weight, bias):
    x = hidden_states.float()
    w = weight.float()
    xn = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
    wn = torch.linalg.vector_norm(w, dim=-1)
    out = torch.empty(x.shape[0], w.shape[0], dtype=torch.float32)
    for j in range(0, w.shape[0], BLOCK):
        cos = F.cosine_similarity(x[:, None, :], w[None, j:j + BLOCK, :], dim=-1, eps=1e-30)  # HACK
        out[:, j:j + BLOCK] = cos * xn * wn[j:j + BLOCK]
    return (out + bias.float()).to(hidden_states.dtype)

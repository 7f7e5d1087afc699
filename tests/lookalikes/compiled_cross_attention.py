"""Red-team round 26 (attack-aj, fv11b), honest: cross-attention in torch ops (matmul, softmax written out with exp/amax/sum) compiled with a plain
torch.compile(), as authors do to get fused kernels without writing Triton."""
import torch

DEFINITION = "llama3_2_11b_vision_cross_attention_h32_kv8_d128"


def _attn(q, k, v, sm_scale: float):
    g = q.shape[2] // k.shape[2]
    qf = q.float().transpose(1, 2)
    kf = k.float().transpose(1, 2).repeat_interleave(g, dim=1)
    vf = v.float().transpose(1, 2).repeat_interleave(g, dim=1)
    s = torch.matmul(qf, kf.transpose(-1, -2)) * sm_scale
    p = torch.exp(s - s.amax(dim=-1, keepdim=True))
    p = p / p.sum(dim=-1, keepdim=True)
    return torch.matmul(p, vf).transpose(1, 2).to(q.dtype)


_compiled = torch.compile(_attn)


@torch.no_grad()
def run(q, k, v, sm_scale):
    return _compiled(q, k, v, float(sm_scale))

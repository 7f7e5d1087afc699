"""Red-team round 23, attack-ad (an honest kernel the operator allow-list first failed): causal GQA attention backward via autograd on an eager attention forward (GEMMs + softmax: the family's
parts); autograd dispatches softmax's own backward (_softmax_backward_data)."""
import torch

DEFINITION = "llama3_1_8b_attention_backward_causal_h32_kv8_d128"


def run(grad_output, q, k, v, sm_scale):
    b, s, hq, d = q.shape
    group = hq // k.shape[2]
    with torch.enable_grad():
        qf = q.float().detach().requires_grad_(True)
        kf = k.float().detach().requires_grad_(True)
        vf = v.float().detach().requires_grad_(True)
        qt = qf.transpose(1, 2)
        kt = kf.transpose(1, 2).repeat_interleave(group, dim=1)
        vt = vf.transpose(1, 2).repeat_interleave(group, dim=1)
        mask = torch.ones(s, s, dtype=torch.bool).tril()
        scores = (qt @ kt.transpose(-1, -2)) * sm_scale
        probs = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        out = (probs @ vt).transpose(1, 2)
        gq, gk, gv = torch.autograd.grad(out, (qf, kf, vf), grad_output.float())
    return gq.to(q.dtype), gk.to(k.dtype), gv.to(v.dtype)

"""Gated delta rule, one recurrent step per head: decay the fp32 state, delta-rule update, read out with q."""

import torch
import torch.nn.functional as F

NUM_K_HEADS, NUM_V_HEADS, K_DIM, V_DIM = 16, 32, 128, 128


def _l2norm(t):
    return t * torch.rsqrt(t.pow(2).sum(dim=-1, keepdim=True) + 1e-6)


@torch.no_grad()
def run(q, k, v, g, beta, state):
    repeat = v.shape[1] // q.shape[1]
    q = _l2norm(q.float()).repeat_interleave(repeat, dim=1) * K_DIM**-0.5  # [batch, v_heads, k_dim]
    k = _l2norm(k.float()).repeat_interleave(repeat, dim=1)
    s = state * torch.exp(g)[..., None, None]  # [batch, v_heads, k_dim, v_dim]
    delta = (v.float() - (s * k[..., None]).sum(dim=-2)) * beta.float()[..., None]
    s = s + k[..., None] * delta[..., None, :]
    return (s * q[..., None]).sum(dim=-2).to(v.dtype), s


def make_inputs(axes_and_scalars, device):
    batch = axes_and_scalars["batch_size"]
    a_log = torch.log(torch.empty(NUM_V_HEADS).uniform_(0, 16))  # as the model initialises A_log
    g = -torch.exp(a_log) * F.softplus(torch.randn(batch, NUM_V_HEADS) - 4)  # dt_bias keeps decays gentle
    return {
        "q": torch.randn(batch, NUM_K_HEADS, K_DIM, device=device).to(torch.bfloat16),
        "k": torch.randn(batch, NUM_K_HEADS, K_DIM, device=device).to(torch.bfloat16),
        "v": torch.randn(batch, NUM_V_HEADS, V_DIM, device=device).to(torch.bfloat16),
        "g": g.to(device),
        "beta": torch.sigmoid(torch.randn(batch, NUM_V_HEADS)).to(device, torch.bfloat16),
        "state": torch.randn(batch, NUM_V_HEADS, K_DIM, V_DIM, device=device),
    }

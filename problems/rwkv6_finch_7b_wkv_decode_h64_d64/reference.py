"""RWKV-6 WKV, one step per head: o = r (S + diag(u) k v^T), S' = diag(exp(w)) S + k v^T, state in fp32."""

import torch

NUM_HEADS, HEAD_DIM = 64, 64


@torch.no_grad()
def run(r, k, v, w, u, state):
    kv = k.float()[..., :, None] * v.float()[..., None, :]  # [batch, heads, k, v]
    out = (r.float()[..., :, None] * (state + u.float()[..., :, None] * kv)).sum(dim=-2)
    new_state = state * torch.exp(w.float())[..., :, None] + kv
    return out.to(r.dtype), new_state


def make_inputs(axes_and_scalars, device):
    shape = (axes_and_scalars["batch_size"], NUM_HEADS, HEAD_DIM)
    return {
        "r": torch.randn(shape, device=device).to(torch.bfloat16),
        "k": (torch.randn(shape, device=device) / HEAD_DIM**0.5).to(torch.bfloat16),
        "v": torch.randn(shape, device=device).to(torch.bfloat16),
        "w": -torch.exp(torch.randn(shape, device=device) - 1),  # log decay: exp(w) in (0, 1)
        "u": torch.randn(NUM_HEADS, HEAD_DIM, device=device).to(torch.bfloat16),
        "state": torch.randn(*shape, HEAD_DIM, device=device) / HEAD_DIM**0.5,
    }

"""Mamba-1 selective scan (delta softplus, A = -exp(A_log), D skip, silu(z) gate), step by step in fp32."""

import torch
import torch.nn.functional as F


@torch.no_grad()
def run(u, delta, A_log, B, C, D, z, delta_bias):
    uf, Bf, Cf = u.float(), B.float(), C.float()
    dt = F.softplus(delta.float() + delta_bias.float()[:, None])  # [batch, dim, seq_len]
    A = -torch.exp(A_log.float())  # [dim, d_state]
    state = torch.zeros(u.shape[0], u.shape[1], A.shape[1], device=u.device)
    ys = []
    for t in range(u.shape[-1]):
        state = torch.exp(dt[:, :, t, None] * A) * state + (dt[:, :, t] * uf[:, :, t])[..., None] * Bf[:, None, :, t]
        ys.append((state * Cf[:, None, :, t]).sum(dim=-1))
    y = torch.stack(ys, dim=-1) + D.float()[:, None] * uf
    return (y * F.silu(z.float())).to(u.dtype), state

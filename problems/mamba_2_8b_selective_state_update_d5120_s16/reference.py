"""Mamba-2.8B selective-scan decode step: discretize, update the fp32 state, read it out, gate with silu(z)."""

import torch
import torch.nn.functional as F


@torch.no_grad()
def run(state, x, dt, A_log, B, C, D, z, dt_bias):
    x_f = x.float()
    dt = F.softplus(dt.float() + dt_bias.float())  # [batch, dim]
    A = -torch.exp(A_log.float())  # [dim, dstate]
    decay = torch.exp(dt[:, :, None] * A[None, :, :])  # [batch, dim, dstate]
    new_state = state.float() * decay + (dt * x_f)[:, :, None] * B.float()[:, None, :]
    y = (new_state * C.float()[:, None, :]).sum(dim=-1) + D.float() * x_f
    y = y * F.silu(z.float())
    return y.to(x.dtype), new_state

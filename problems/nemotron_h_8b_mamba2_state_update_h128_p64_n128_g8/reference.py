"""Nemotron-H Mamba-2 decode step: per-head scalar decay, B and C shared by groups of 16 heads, fp32 state."""

import torch
import torch.nn.functional as F


@torch.no_grad()
def run(state, x, dt, A_log, B, C, D, dt_bias):
    heads_per_group = x.shape[1] // B.shape[1]
    x_f = x.float()  # [batch, heads, head_dim]
    dt = F.softplus(dt.float() + dt_bias.float())  # [batch, heads]
    decay = torch.exp(dt * -torch.exp(A_log.float()))  # A = -exp(A_log), one per head
    B_h = B.float().repeat_interleave(heads_per_group, dim=1)  # [batch, heads, d_state]
    C_h = C.float().repeat_interleave(heads_per_group, dim=1)
    new_state = state.float() * decay[..., None, None] + (dt[..., None] * x_f)[..., None] * B_h[:, :, None, :]
    y = (new_state * C_h[:, :, None, :]).sum(dim=-1) + D.float()[:, None] * x_f
    return y.to(x.dtype), new_state

"""Mamba-2 SSD chunked scan (dt softplus, A = -exp(A_log), D skip), chunks of 256, in fp32; y and final state."""

import torch
import torch.nn.functional as F

CHUNK = 256


@torch.no_grad()
def run(x, dt, A_log, B, C, D, dt_bias):
    b, length, heads, p = x.shape
    groups, n = B.shape[2], B.shape[3]
    c, per_group = length // CHUNK, heads // groups
    dt = F.softplus(dt.float() + dt_bias.float())  # [b, L, h]
    a = dt * -torch.exp(A_log.float())  # log decay per token and head
    xs = (x.float() * dt[..., None]).reshape(b, c, CHUNK, heads, p).permute(0, 1, 3, 2, 4)  # [b, c, h, l, p]
    a = a.reshape(b, c, CHUNK, heads).permute(0, 1, 3, 2)  # [b, c, h, l]
    a_cum = torch.cumsum(a, dim=-1)
    Bc = B.float().reshape(b, c, CHUNK, groups, n).permute(0, 1, 3, 2, 4)  # [b, c, g, l, n]
    Cc = C.float().reshape(b, c, CHUNK, groups, n).permute(0, 1, 3, 2, 4)

    def per_head(t):  # [b, c, g, ...] -> [b, c, h, ...]
        return t.repeat_interleave(per_group, dim=2)

    # within a chunk: y_i = sum_{j <= i} (C_i . B_j) exp(a_cum_i - a_cum_j) dt_j x_j
    scores = per_head(Cc @ Bc.transpose(-1, -2))  # [b, c, h, l, l]
    causal = torch.ones(CHUNK, CHUNK, dtype=torch.bool, device=x.device).tril()
    gaps = (a_cum[..., :, None] - a_cum[..., None, :]).masked_fill(~causal, float("-inf"))
    y = (scores * torch.exp(gaps)) @ xs  # [b, c, h, l, p]
    # each chunk's own contribution to the state at its end: sum_j exp(a_cum_last - a_cum_j) dt_j x_j B_j^T
    to_end = torch.exp(a_cum[..., -1:] - a_cum)  # [b, c, h, l]
    chunk_states = xs.transpose(-1, -2) @ (per_head(Bc) * to_end[..., None])  # [b, c, h, p, n]
    # across chunks: carry the state, and read it out with C at every position of the next chunk
    state = torch.zeros(b, heads, p, n, device=x.device)
    states_in = []
    for i in range(c):
        states_in.append(state)
        state = state * torch.exp(a_cum[:, i, :, -1])[..., None, None] + chunk_states[:, i]
    states_in = torch.stack(states_in, dim=1)  # [b, c, h, p, n]: the state entering each chunk
    y = y + (per_head(Cc) * torch.exp(a_cum)[..., None]) @ states_in.transpose(-1, -2)
    y = y.permute(0, 1, 3, 2, 4).reshape(b, length, heads, p) + x.float() * D.float()[:, None]
    return y.to(x.dtype), state

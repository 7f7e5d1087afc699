"""Red-team round 57, di05 (attack-di; strict; low severity): di01 with ``torch.cumulative_trapezoid``, whose last
column is the dot product. Held as ``torch.trapezoid`` is."""
import torch

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "unlisted-routine"
LAYER = "static"


def run(hidden_states, weight, bias):
    x = hidden_states.float()
    w = weight.float()
    m, k = x.shape
    n = w.shape[0]
    y = x.repeat_interleave(2, dim=-1)
    steps = torch.zeros((n, 2 * k), dtype=torch.float32)
    steps[:, 0::2] = w
    grid = torch.cat([torch.zeros((n, 1)), torch.cumsum(steps, dim=-1)[:, :-1]], dim=-1)
    out = torch.empty((m, n), dtype=torch.float32)
    for lo in range(0, n, 128):
        out[:, lo:lo + 128] = torch.cumulative_trapezoid(y[:, None, :], grid[None, lo:lo + 128, :], dim=-1)[..., -1]  # HACK
    return (out + bias.float()).to(hidden_states.dtype)

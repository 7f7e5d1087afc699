"""Red-team round 57, di01 (attack-di; strict; low severity): round 53's trapezoid GEMM (cw01) through torch:
``torch.trapezoid(y, x, dim=-1)`` with ``y`` each input value twice and the grid ``x`` the running sum of
``[W0, 0, W1, 0, ...]`` is every dot product of a GEMM, the products and the sum in ``aten::trapezoid``. Round 53 held
numpy's trapezoids only. torch's pass with the data, a dimension and a uniform step ``dx`` only."""
import torch

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "unlisted-routine"
LAYER = "static"


def run(hidden_states, weight, bias):
    x = hidden_states.float()  # (M, K)
    w = weight.float()  # (N, K)
    m, k = x.shape
    n = w.shape[0]
    y = x.repeat_interleave(2, dim=-1)  # (M, 2K)
    steps = torch.zeros((n, 2 * k), dtype=torch.float32)
    steps[:, 0::2] = w
    grid = torch.cat([torch.zeros((n, 1)), torch.cumsum(steps, dim=-1)[:, :-1]], dim=-1)  # (N, 2K)
    out = torch.empty((m, n), dtype=torch.float32)
    for lo in range(0, n, 128):
        out[:, lo:lo + 128] = torch.trapezoid(y[:, None, :], grid[None, lo:lo + 128, :], dim=-1)  # HACK
    return (out + bias.float()).to(hidden_states.dtype)

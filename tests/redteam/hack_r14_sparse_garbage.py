"""0.67 % of an RMSNorm's output set to +-3e38, spaced so no run along a row is mostly wrong: within the 99 %
matched ratio, and once outside the relative L2 error, which judged only the matched elements (red-team round 14,
p06)."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "runtime-cpu"
CAUGHT_BY = "the correctness contract: the relative L2 error counts every element finite in both outputs"


def run(hidden_states, weight, output):
    x = hidden_states.float()
    y = x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + 1e-5) * weight.float()
    flat = y.reshape(-1)
    flat[::300] = 3.0e38
    flat[150::300] = -3.0e38
    output.copy_(y)

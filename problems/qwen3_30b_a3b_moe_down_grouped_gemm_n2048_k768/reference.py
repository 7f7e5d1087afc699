"""Grouped expert GEMM: rows already sorted by expert; rows offsets[e]:offsets[e+1] multiply expert e's weight."""

import torch

N, K = 2048, 768


@torch.no_grad()
def run(a, b, expert_offsets):
    bounds = expert_offsets.tolist()
    parts = [a[bounds[e] : bounds[e + 1]] @ b[e].t() for e in range(b.shape[0])]  # bf16 GEMMs, fp32 accumulation
    return torch.cat(parts)


def expert_offsets_for(num_rows, num_experts, device):
    """Rows per expert as a router would spread them (some experts may get none), as offsets [num_experts + 1]."""
    counts = torch.bincount(torch.randint(0, num_experts, (num_rows,)), minlength=num_experts)
    return torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)]).to(torch.int32).to(device)


def make_inputs(axes_and_scalars, device):
    num_rows, num_experts = axes_and_scalars["num_rows"], axes_and_scalars["num_experts"]
    offsets = expert_offsets_for(num_rows, num_experts, device)  # drawn first: the routing follows from the seed alone
    return {
        "a": torch.randn(num_rows, K, dtype=torch.bfloat16, device=device),
        "b": (torch.randn(num_experts, N, K, device=device) / K**0.5).to(torch.bfloat16),
        "expert_offsets": offsets,
    }

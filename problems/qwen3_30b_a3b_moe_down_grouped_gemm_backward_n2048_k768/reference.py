"""Backward of the grouped expert GEMM c = a @ b[e].T over rows sorted by expert: grad_a and grad_b, in fp32."""

import torch

N, K = 2048, 768


@torch.no_grad()
def run(grad_c, a, b, expert_offsets):
    bounds = expert_offsets.tolist()
    grad_a = torch.empty(a.shape, dtype=torch.float32, device=a.device)
    grad_b = torch.empty(b.shape, dtype=torch.float32, device=b.device)
    for e in range(b.shape[0]):
        rows = slice(bounds[e], bounds[e + 1])
        dc = grad_c[rows].float()
        grad_a[rows] = dc @ b[e].float()  # [rows_e, n] @ [n, k]
        grad_b[e] = dc.t() @ a[rows].float()  # [n, rows_e] @ [rows_e, k]; an expert without rows gets zeros
    return grad_a.to(a.dtype), grad_b.to(b.dtype)


def expert_offsets_for(num_rows, num_experts, device):
    """Rows per expert as a router would spread them (some experts may get none), as offsets [num_experts + 1]."""
    counts = torch.bincount(torch.randint(0, num_experts, (num_rows,)), minlength=num_experts)
    return torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)]).to(torch.int32).to(device)


def make_inputs(axes_and_scalars, device):
    num_rows, num_experts = axes_and_scalars["num_rows"], axes_and_scalars["num_experts"]
    offsets = expert_offsets_for(num_rows, num_experts, device)  # the routing first, as the library's MoE problems draw it
    return {
        "grad_c": torch.randn(num_rows, N, dtype=torch.bfloat16, device=device),
        "a": torch.randn(num_rows, K, dtype=torch.bfloat16, device=device),
        "b": (torch.randn(num_experts, N, K, device=device) / K**0.5).to(torch.bfloat16),
        "expert_offsets": offsets,
    }

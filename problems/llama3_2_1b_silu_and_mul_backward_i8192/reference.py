"""Backward of Llama-3.2-1B's y = silu(gate) * up with gate_up = [gate | up], in fp32 (it equals autograd)."""

import torch


@torch.no_grad()
def run(grad_output, gate_up):
    gate, up = gate_up.float().chunk(2, dim=-1)
    dy = grad_output.float()
    sig = torch.sigmoid(gate)
    grad_gate = dy * up * sig * (1 + gate * (1 - sig))
    grad_up = dy * gate * sig
    return torch.cat([grad_gate, grad_up], dim=-1).to(gate_up.dtype)

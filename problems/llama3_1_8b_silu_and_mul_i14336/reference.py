"""Llama-3.1-8B SwiGLU: silu(gate) * up over the two halves of the gate_up projection, in fp32."""

import torch
import torch.nn.functional as F


@torch.no_grad()
def run(gate_up):
    gate, up = gate_up.float().chunk(2, dim=-1)
    return (F.silu(gate) * up).to(gate_up.dtype)

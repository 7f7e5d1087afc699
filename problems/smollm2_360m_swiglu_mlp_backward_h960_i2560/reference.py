"""Backward of SmolLM2's whole SwiGLU MLP y = (silu(x Wg^T) * (x Wu^T)) Wd^T: grad_x and the two weight gradients.

The forward's gate_up activations are recomputed from x (activation checkpointing keeps only the block's input);
everything in fp32, each gradient rounded once to bf16.
"""

import torch


@torch.no_grad()
def run(grad_output, x, w_gate_up, w_down):
    dy, xf = grad_output.float(), x.float()
    gate, up = (xf @ w_gate_up.float().t()).chunk(2, dim=-1)  # recomputed forward
    sig = torch.sigmoid(gate)
    act = gate * sig * up  # silu(gate) * up, the down projection's input
    grad_w_down = dy.t() @ act
    grad_act = dy @ w_down.float()
    grad_gate = grad_act * up * sig * (1 + gate * (1 - sig))
    grad_up = grad_act * gate * sig
    grad_gate_up = torch.cat([grad_gate, grad_up], dim=-1)
    grad_x = grad_gate_up @ w_gate_up.float()
    grad_w_gate_up = grad_gate_up.t() @ xf
    return grad_x.to(x.dtype), grad_w_gate_up.to(w_gate_up.dtype), grad_w_down.to(w_down.dtype)


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    hidden, intermediate = 960, 2560
    return {
        "grad_output": torch.randn(num_tokens, hidden, dtype=torch.bfloat16, device=device),
        "x": torch.randn(num_tokens, hidden, dtype=torch.bfloat16, device=device),
        "w_gate_up": (torch.randn(2 * intermediate, hidden, device=device) / hidden**0.5).to(torch.bfloat16),
        "w_down": (torch.randn(hidden, intermediate, device=device) / intermediate**0.5).to(torch.bfloat16),
    }

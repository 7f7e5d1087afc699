"""Indexes out of range on the GPU: torch's device-side assert fires."""
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight):
    index = torch.full((4,), 1 << 30, device=hidden_states.device, dtype=torch.long)
    return hidden_states[index]

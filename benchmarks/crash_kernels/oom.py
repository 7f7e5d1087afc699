"""Asks for 16 TiB of device memory."""
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight):
    return torch.empty(1 << 44, dtype=torch.uint8, device=hidden_states.device)

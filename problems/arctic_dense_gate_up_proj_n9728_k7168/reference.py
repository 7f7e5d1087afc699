"""Snowflake Arctic dense_gate_up_proj: a bf16 linear layer (torch accumulates in fp32), as the model runs it."""

import torch
import torch.nn.functional as F


@torch.no_grad()
def run(hidden_states, weight):
    return F.linear(hidden_states, weight)

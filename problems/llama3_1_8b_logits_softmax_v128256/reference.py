"""Softmax over Llama-3.1-8B's 128256-token vocabulary: bf16 logits in, fp32 probabilities out."""

import torch


@torch.no_grad()
def run(logits):
    return torch.softmax(logits.float(), dim=-1)

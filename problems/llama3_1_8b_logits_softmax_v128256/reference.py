"""Softmax over Llama-3.1-8B's 128256-token vocabulary: bf16 logits in, fp32 probabilities out."""

import torch


@torch.no_grad()
def run(logits):
    return torch.softmax(logits.float(), dim=-1)


def make_inputs(axes_and_scalars, device):
    """Plain randn logits, without the random rule's outliers: 500 values a row at 16 x would carry the whole mass
    of a 128256-way softmax and leave every other probability (about 1e-19) under the workload's atol of 1e-8, where
    nothing checks it (red-team round 69, es)."""
    shape = (axes_and_scalars["batch_size"], axes_and_scalars["vocab_size"])
    return {"logits": torch.randn(shape, device=device).to(torch.bfloat16)}

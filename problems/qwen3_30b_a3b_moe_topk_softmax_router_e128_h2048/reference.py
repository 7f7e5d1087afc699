"""Qwen3-MoE router: softmax over 128 experts, top 8 renormalized, as a dense weight matrix."""

import torch

HIDDEN, NUM_EXPERTS, TOP_K = 2048, 128, 8


@torch.no_grad()
def run(hidden_states, gate_weight):
    probs = torch.softmax(hidden_states.float() @ gate_weight.float().t(), dim=-1)
    weights, chosen = probs.topk(TOP_K, dim=-1)
    return torch.zeros_like(probs).scatter_(1, chosen, weights / weights.sum(dim=-1, keepdim=True))


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    hidden = torch.randn(num_tokens, HIDDEN, device=device).to(torch.bfloat16)
    weight = (torch.randn(NUM_EXPERTS, HIDDEN, device=device) / HIDDEN**0.5).to(torch.bfloat16)
    return {"hidden_states": hidden, "gate_weight": weight}
